"""orchestrator: one declarative file from training data to a public REST API and web page."""

__version__ = "0.1.0"
