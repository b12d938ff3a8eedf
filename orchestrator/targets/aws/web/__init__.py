"""The aws target's web layer: API Gateway, Lambda and the S3 website, through Pulumi.

`handoff` drives the stacks (Automation API, `automation`) with the config of
`stack_config`; `program` is the Pulumi program they run, shipped in the package.
"""
