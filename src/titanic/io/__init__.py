"""Input and output at the edges: data locations, checksums, storage copies, atomic outputs."""
