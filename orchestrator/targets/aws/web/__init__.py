"""The AWS web layer (API Gateway, Lambda, S3 website) via the Pulumi program in `pulumi/`."""

from .handoff import WebLayer

__all__ = ["WebLayer"]
