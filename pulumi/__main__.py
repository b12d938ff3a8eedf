"""Entry point for `pulumi up`: builds what the stack config names and exports the outputs."""

import pulumi
from program import build

for output_name, value in build().items():
    pulumi.export(output_name, value)
