"""BluePeak Health "Provider Connect": a single-page app over a JSON API (scripted login, then TOTP)."""

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
    slug="bluepeak",
    display_name="BluePeak Health",
    base_url="http://127.0.0.1:8102",  # the sandbox portal; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.AUTHORIZATION, Capability.CLAIM_STATUS}),
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD, CredentialField.TOTP_SECRET}),
    # One session per account is a hard rule here: a second login ends the first session.
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0),
    # Saturday nights 22:00-24:00 Central, when the portal is down for its weekly release.
    maintenance_windows=(MaintenanceWindow(weekdays=frozenset({5}), start=time(22, 0), end=time(0, 0),
                                           timezone="America/Chicago"),),
    session_lifetime_minutes=15,
    evidence_masks=(EvidenceMask(selector="header .user"),),  # "Signed in as <portal user>"
)
