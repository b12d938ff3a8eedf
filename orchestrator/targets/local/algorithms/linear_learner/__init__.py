"""Local stand-in for SageMaker's Linear Learner: scikit-learn's SGD linear models."""
