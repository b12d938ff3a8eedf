"""Local stand-in for SageMaker's XGBoost algorithm, on xgboost's own CPU library.

Named `xgboost_algo` so it never shadows the `xgboost` library it imports.
"""
