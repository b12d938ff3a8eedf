"""The local S3: buckets on disk behind an S3 REST API on 127.0.0.1, and S3 websites."""
