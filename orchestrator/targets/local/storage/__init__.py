"""What S3 does locally: static websites served from a folder."""
