"""The Pulumi program of the aws web layer: REST API, Lambda, CORS, S3 website, least-privilege IAM.

It ships inside the package, so a regular install can provision the API: a run
hands `main` to the Automation API as an inline program, and `pulumi up` run by
hand in the repository's `pulumi/` folder calls the same `main`. What it builds
comes only from the stack config (`settings.py`; the keys are in `../stack_config.py`).

Nothing heavy is imported here: the modules that need no Pulumi (`site_files`,
`lambda_package`; the wrapper is `orchestrator/targets/lambda_shim.py`) stay importable and testable on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import Settings


def build(settings: Settings | None = None) -> dict[str, Any]:
    """Build the API and/or the website; either may be absent from the config. Returns the stack outputs."""
    import pulumi

    from .settings import load_settings

    settings = settings or load_settings()
    outputs: dict[str, Any] = {}
    if settings.api is not None:
        from .api import build_api

        outputs.update(build_api(settings, settings.api))
    if settings.website is not None:
        from .website import build_website

        outputs.update(build_website(settings, settings.website))
    if not outputs:
        pulumi.log.warn("Neither orchestrator:api nor orchestrator:website is set: nothing to build.")
    return outputs


def main() -> None:
    """What `pulumi up` runs, inline or by hand: build what the stack config names and export its outputs."""
    import pulumi

    for output_name, value in build().items():
        pulumi.export(output_name, value)
