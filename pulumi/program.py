"""The whole program: read the stack config, build the parts it names, return the outputs."""

from __future__ import annotations

import pulumi
from settings import Settings, load_settings


def build(settings: Settings | None = None) -> dict[str, pulumi.Input]:
    """Build the API and/or the website; either may be absent from the config."""
    settings = settings or load_settings()
    outputs: dict[str, pulumi.Input] = {}
    if settings.api is not None:
        from api import build_api

        outputs.update(build_api(settings, settings.api))
    if settings.website is not None:
        from website import build_website

        outputs.update(build_website(settings, settings.website))
    if not outputs:
        pulumi.log.warn("Neither orchestrator:api nor orchestrator:website is set: nothing to build.")
    return outputs
