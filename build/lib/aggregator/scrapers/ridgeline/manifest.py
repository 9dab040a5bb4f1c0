"""Ridgeline Mutual: a server-rendered provider portal of the 2000s (CSRF form login, then TOTP)."""

from datetime import time

from aggregator.scrapers.framework import (
    Capability,
    CredentialField,
    Limits,
    MaintenanceWindow,
    Manifest,
)
from aggregator.scrapers.framework.manifest import (
    Cap,
    CapKind,
    EvidenceMask,
    Gap,
    LoginKind,
    MfaKind,
    Need,
    SearchMode,
)
from aggregator.scrapers.framework.manifest_coverage import service_types_of
from aggregator.scrapers.ridgeline import maps

MANIFEST = Manifest(
    slug="ridgeline",
    display_name="Ridgeline Mutual",
    base_url="http://127.0.0.1:8101",  # the sandbox portal; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.AUTHORIZATION, Capability.CLAIM_STATUS}),
    search_modes=frozenset({SearchMode.ELIGIBILITY_BY_MEMBER, SearchMode.AUTHORIZATIONS_BY_MEMBER,
                            SearchMode.CLAIMS_BY_NUMBER, SearchMode.CLAIMS_BY_MEMBER_AND_DATES}),
    login_kind=LoginKind.HTML_FORM,
    mfa_kinds=frozenset({MfaKind.TOTP, MfaKind.CAPTCHA}),  # a CAPTCHA page may follow the code: a person signs in once
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD, CredentialField.TOTP_SECRET}),
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0),
    # The portal's home page announces it: "unavailable ... on Sundays from 12:00 a.m. to 6:00 a.m. ET".
    maintenance_windows=(MaintenanceWindow(weekdays=frozenset({6}), start=time(0, 0), end=time(6, 0),
                                           timezone="America/New_York"),),
    session_lifetime_minutes=15,  # the portal's idle timeout
    evidence_masks=(EvidenceMask(text="Logged in as"),),  # the header names the portal user
    caps=(
        Cap(kind=CapKind.RESULTS_PER_PAGE, value=maps.CLAIMS_PER_PAGE, capability=Capability.CLAIM_STATUS,
            note="claim search results; the adapter follows 'Next >' through every page"),
        Cap(kind=CapKind.RESULT_PAGES_READ, value=maps.MAX_RESULT_PAGES, capability=Capability.CLAIM_STATUS,
            note="a search with more result pages is refused as a runaway, not answered in part"),
    ),
    # The benefits page lists benefits and the prior-authorization requirement for the service types its
    # benefit table names, and no others (the very map the parser reads them with).
    gaps=(
        Gap(need=Need.SERVICE_BENEFITS, shown_for=service_types_of(maps.SERVICE_TYPES)),
        Gap(need=Need.PRIOR_AUTH_REQUIREMENT, shown_for=service_types_of(maps.SERVICE_TYPES)),
    ),
)
