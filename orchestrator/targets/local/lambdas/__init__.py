"""Lambda functions: warm worker processes that run a user's handler in isolation."""
