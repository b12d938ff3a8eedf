"""Local stand-in for SageMaker's k-NN algorithm: exact neighbour search with scikit-learn."""
