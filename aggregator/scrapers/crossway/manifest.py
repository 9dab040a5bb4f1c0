"""Crossway: a multi-payer provider hub behind single sign-on (its identity provider "Crossway ID" on
another origin), with organization (Tax ID) and provider (NPI) pickers, a payer list, a per-user daily
search cap and a minimum interval between searches.

The payers it serves are declared here as facts about the hub (names and payer ids as the hub prints
them); each has its own result layout, read by a module of `layouts/`.
"""

from aggregator.scrapers.framework import Capability, CredentialField, Limits, Manifest
from aggregator.scrapers.framework.manifest import (
    Cap,
    CapKind,
    EvidenceMask,
    Gap,
    LoginKind,
    MfaKind,
    Need,
    PasswordPolicy,
    PayerEntry,
    SearchMode,
)
from aggregator.scrapers.framework.manifest_coverage import service_types_of

from . import maps

SEARCHES_PER_DAY = 300  # "You have reached your daily limit of 300 patient searches."

MANIFEST = Manifest(
    slug="crossway",
    display_name="Crossway",
    base_url="http://127.0.0.1:8105",  # the sandbox hub; a deployment sets AGGREGATOR_CARRIER_URLS
    capabilities=frozenset({Capability.ELIGIBILITY, Capability.CLAIM_STATUS}),
    search_modes=frozenset({SearchMode.ELIGIBILITY_BY_MEMBER, SearchMode.ELIGIBILITY_BY_NAME,
                            SearchMode.CLAIMS_BY_MEMBER_AND_DATES}),
    login_kind=LoginKind.IDENTITY_PROVIDER,
    # Per user, Crossway ID asks for one of these; a remembered device (its cookie, kept in the vault) skips it.
    mfa_kinds=frozenset({MfaKind.TOTP, MfaKind.TEXT_CODE, MfaKind.EMAIL_CODE, MfaKind.PUSH}),
    remembered_device_cookies=(maps.DEVICE_COOKIE,),
    credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD, CredentialField.TOTP_SECRET}),
    # The hub answers 429 to a search less than a second after the user's previous one.
    limits=Limits(max_concurrent_accounts=2, min_seconds_between_requests=0.0, min_seconds_between_searches=1.0),
    session_lifetime_minutes=15,  # the hub's idle timeout; Crossway ID's own session lives 8 hours
    # Every signed-in page names the user and the organization and provider the session acts for.
    evidence_masks=(EvidenceMask(selector="#user-name"), EvidenceMask(selector="#acting-for"),
                    EvidenceMask(selector="#password-warning")),
    caps=(Cap(kind=CapKind.SEARCHES_PER_DAY, value=SEARCHES_PER_DAY,
              note="patient searches per user per hub day (eligibility and claim status alike); then the hub "
                   "shows 'Daily Limit Reached' until its next day"),),
    payers=(
        PayerEntry(slug="harborview", display_name="Harborview Health", payer_id="HRBVW", name_search=True),
        PayerEntry(slug="prairie", display_name="Prairie Mutual", payer_id="PRMU4"),
        PayerEntry(slug="ridgeline", display_name="Ridgeline Mutual", payer_id="RDGM1"),
    ),
    # The result pages show benefits and the prior-authorization requirement for these service types only.
    gaps=(
        Gap(need=Need.SERVICE_BENEFITS, shown_for=service_types_of(maps.SERVICE_TYPES)),
        Gap(need=Need.PRIOR_AUTH_REQUIREMENT, shown_for=service_types_of(maps.SERVICE_TYPES)),
    ),
    # Crossway ID's change-password page: at least 12 characters with an upper- and a lower-case letter, a digit
    # and a symbol, not containing the user name (the part before "@"), not the current or the last 3. Any
    # symbol is accepted; the product uses ones no form or shell treats specially.
    password_policy=PasswordPolicy(min_length=12, max_length=64, symbols="!#$%*+-=?@^_", require_upper=True,
                                   require_lower=True, require_digit=True, require_symbol=True),
)
