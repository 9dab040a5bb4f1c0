"""Cascade Care: a frameset portal with ASP.NET postbacks (login, then one of three security questions)."""

from datetime import time

from aggregator.scrapers.framework import (
    Capability,
    CredentialField,
    Limits,
    MaintenanceWindow,
    Manifest,
)

MANIFEST = Manifest(
    slug="cascade",
    display_name="Cascade Care",
    base_url="http://127.0.0.1:8103",  # the sandbox portal; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.AUTHORIZATION, Capability.CLAIM_STATUS}),
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD,
                                 CredentialField.SECURITY_ANSWERS}),
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0),
    # The home page says: "unavailable nightly from 1:00 a.m. to 3:00 a.m. Pacific Time".
    maintenance_windows=(MaintenanceWindow(start=time(1, 0), end=time(3, 0), timezone="America/Los_Angeles"),),
    session_lifetime_minutes=5,  # the portal's short idle timeout
    evidence_masks=(),  # its pages name no portal user (the defaults still apply)
)
