"""Local processing jobs under SageMaker Processing's container contract (job.py runs one)."""
