"""Cascade Care: a frameset portal with ASP.NET postbacks (login, then one of three security questions)."""

from datetime import time

from aggregator.scrapers.cascade import maps
from aggregator.scrapers.framework import (
    Capability,
    CredentialField,
    Limits,
    MaintenanceWindow,
    Manifest,
)
from aggregator.scrapers.framework.manifest import (
    Gap,
    LoginKind,
    MfaKind,
    Need,
    PasswordPolicy,
    SearchMode,
)
from aggregator.scrapers.framework.manifest_coverage import service_types_of

MANIFEST = Manifest(
    slug="cascade",
    display_name="Cascade Care",
    base_url="http://127.0.0.1:8103",  # the sandbox portal; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.AUTHORIZATION, Capability.CLAIM_STATUS}),
    search_modes=frozenset({SearchMode.ELIGIBILITY_BY_MEMBER, SearchMode.AUTHORIZATIONS_BY_MEMBER,
                            SearchMode.CLAIMS_BY_NUMBER, SearchMode.CLAIMS_BY_MEMBER_AND_DATES}),
    login_kind=LoginKind.ASPNET_POSTBACK,
    mfa_kinds=frozenset({MfaKind.SECURITY_QUESTION, MfaKind.CAPTCHA}),  # one of three questions; a CAPTCHA may follow: a person signs in once
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD,
                                 CredentialField.SECURITY_ANSWERS}),
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0),
    # The home page says: "unavailable nightly from 1:00 a.m. to 3:00 a.m. Pacific Time".
    maintenance_windows=(MaintenanceWindow(start=time(1, 0), end=time(3, 0), timezone="America/Los_Angeles"),),
    session_lifetime_minutes=5,  # the portal's short idle timeout
    evidence_masks=(),  # its pages name no portal user (the defaults still apply)
    # The benefits page lists benefits and the prior-authorization requirement for the service types its
    # service categories names, and no others (the very map the parser reads them with).
    gaps=(
        Gap(need=Need.SERVICE_BENEFITS, shown_for=service_types_of(maps.SERVICES)),
        Gap(need=Need.PRIOR_AUTH_REQUIREMENT, shown_for=service_types_of(maps.SERVICES)),
    ),
    # Its Change Password page: 8 to 20 characters, a letter and a digit, only letters, digits and !@#$%^*_-,
    # not the user name, not one of the last 5 passwords.
    password_policy=PasswordPolicy(min_length=8, max_length=20, symbols="!@#$%^*_-", require_letter=True,
                                   require_digit=True),
)
