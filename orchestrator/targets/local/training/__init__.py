"""Training jobs under SageMaker's training contract: the job folder, the script's process, the model's store."""
