"""Model stages: train (split, fit), evaluate (metrics, cross-validation, importance), predict."""
