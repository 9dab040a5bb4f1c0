"""One Crossway sandbox in process: the shared calendar and settings, the directory, both states and both
apps. `sandbox/crossway/server.py` serves them on loopback ports; tests may drive the apps over ASGI."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from sandbox.crossway.directory import Directory, make_directory
from sandbox.crossway.hub_app import create_hub_app
from sandbox.crossway.hub_state import CLIENT_ID, HubState
from sandbox.crossway.idp_app import create_idp_app
from sandbox.crossway.idp_state import IdpState
from sandbox.crossway.payers import PAYERS
from sandbox.crossway.served import SharedSettings
from sandbox.crossway.settings import SandboxCalendar
from sandbox.dataset import Dataset


@dataclass
class Crossway:
    dataset: Dataset
    directory: Directory
    calendar: SandboxCalendar
    settings: SharedSettings
    hub: HubState
    idp: IdpState
    hub_app: FastAPI
    idp_app: FastAPI

    def connect(self, hub_url: str, idp_url: str) -> None:
        """Tell the hub where Crossway ID is and register the hub's callback with Crossway ID."""
        self.hub.idp_url = idp_url.rstrip("/")
        self.idp.register_client(CLIENT_ID, "Crossway Provider Hub", hub_url.rstrip("/") + "/oidc/callback")

    def reset(self) -> None:
        """Everything back to the start: both apps, the shared settings and the calendar."""
        self.hub.reset_all()


def build_crossway(dataset: Dataset, clock: Callable[[], float] = time.time) -> Crossway:
    calendar = SandboxCalendar(dataset.as_of, clock)
    settings = SharedSettings()
    directory = make_directory(dataset, tuple(p.slug for p in PAYERS))
    idp = IdpState(directory, dataset.seed, calendar, settings)
    hub = HubState(dataset, directory, idp, calendar, settings)
    return Crossway(dataset, directory, calendar, settings, hub, idp, create_hub_app(hub), create_idp_app(idp))
