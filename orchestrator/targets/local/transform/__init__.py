"""Batch transform jobs on the local target: the model's own handlers over objects of the local S3."""
