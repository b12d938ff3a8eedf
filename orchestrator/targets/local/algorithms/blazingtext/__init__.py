"""Local stand-in for SageMaker's BlazingText in supervised (text classification) mode.

It is not fastText: a scikit-learn TF-IDF of word n-grams feeds a linear classifier trained by
SGD, which keeps BlazingText's data format, hyperparameter names and wire formats.
"""
