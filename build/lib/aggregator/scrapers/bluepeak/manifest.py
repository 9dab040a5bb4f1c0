"""BluePeak Health "Provider Connect": a single-page app over a JSON API (scripted login, then TOTP)."""

from datetime import time

from aggregator.scrapers.bluepeak import maps
from aggregator.scrapers.framework import (
    Capability,
    CredentialField,
    Limits,
    MaintenanceWindow,
    Manifest,
)
from aggregator.scrapers.framework.manifest import (
    EvidenceMask,
    Gap,
    LoginKind,
    MfaKind,
    Need,
    SearchMode,
)
from aggregator.scrapers.framework.manifest_coverage import service_types_of

MANIFEST = Manifest(
    slug="bluepeak",
    display_name="BluePeak Health",
    base_url="http://127.0.0.1:8102",  # the sandbox portal; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.AUTHORIZATION, Capability.CLAIM_STATUS}),
    search_modes=frozenset({SearchMode.ELIGIBILITY_BY_MEMBER, SearchMode.AUTHORIZATIONS_BY_MEMBER,
                            SearchMode.CLAIMS_BY_NUMBER, SearchMode.CLAIMS_BY_MEMBER_AND_DATES}),
    login_kind=LoginKind.SCRIPTED_SPA,
    mfa_kinds=frozenset({MfaKind.TOTP, MfaKind.CAPTCHA}),  # a robot check may follow the code: a person signs in once
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD, CredentialField.TOTP_SECRET}),
    # One session per account is a hard rule here: a second login ends the first session.
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0),
    # Saturday nights 22:00-24:00 Central, when the portal is down for its weekly release.
    maintenance_windows=(MaintenanceWindow(weekdays=frozenset({5}), start=time(22, 0), end=time(0, 0),
                                           timezone="America/Chicago"),),
    session_lifetime_minutes=15,
    evidence_masks=(EvidenceMask(selector="header .user"),),  # "Signed in as <portal user>"
    # The benefits page lists benefits and the prior-authorization requirement for the service types its
    # "Benefits by service" sections names, and no others (the very map the parser reads them with).
    gaps=(
        Gap(need=Need.SERVICE_BENEFITS, shown_for=service_types_of(maps.SERVICES)),
        Gap(need=Need.PRIOR_AUTH_REQUIREMENT, shown_for=service_types_of(maps.SERVICES)),
    ),
)
