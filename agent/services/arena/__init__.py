"""The arena: a local, Kaggle-compatible competition host (a folder per competition, like MLE-bench)."""
