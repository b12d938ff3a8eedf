"""SageMaker endpoints: models loaded as the inference toolkit loads them, behind the runtime API."""
