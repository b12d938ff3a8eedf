"""What every part of the API needs to know about the API it joins."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import ApiSettings, Settings


@dataclass
class ApiContext:
    settings: Settings
    api: ApiSettings
    account_id: str

    @property
    def region(self) -> str:
        return self.settings.region
