"""The report once per parameter variant: variants, cache, workers, runs, the comparison page."""
