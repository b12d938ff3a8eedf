"""Hyperparameter tuning jobs on the local target: trials under the training contract, at the same time."""
