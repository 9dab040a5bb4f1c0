"""Ridgeline Mutual: a server-rendered provider portal of the 2000s (CSRF form login, then TOTP)."""

from datetime import time

from aggregator.scrapers.framework import (
    Capability,
    CredentialField,
    Limits,
    MaintenanceWindow,
    Manifest,
)
from aggregator.scrapers.framework.manifest import EvidenceMask

MANIFEST = Manifest(
    slug="ridgeline",
    display_name="Ridgeline Mutual",
    base_url="http://127.0.0.1:8101",  # the sandbox portal; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.AUTHORIZATION, Capability.CLAIM_STATUS}),
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD, CredentialField.TOTP_SECRET}),
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0),
    # The portal's home page announces it: "unavailable ... on Sundays from 12:00 a.m. to 6:00 a.m. ET".
    maintenance_windows=(MaintenanceWindow(weekdays=frozenset({6}), start=time(0, 0), end=time(6, 0),
                                           timezone="America/New_York"),),
    session_lifetime_minutes=15,  # the portal's idle timeout
    evidence_masks=(EvidenceMask(text="Logged in as"),),  # the header names the portal user
)
