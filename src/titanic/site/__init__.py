"""The published site: what it holds, its landing page and the links between its pages."""
