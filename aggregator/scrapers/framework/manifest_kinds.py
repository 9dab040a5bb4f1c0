"""The closed vocabularies a carrier manifest declares with: capabilities, search modes, login and MFA kinds,
caps, and the answers a visit may need (`Need`), each with the answer field it fills and the question staff ask
the payer by phone when the portal cannot give it.

Plain enums on purpose: the coverage matrix (`aggregator carriers`, docs/carriers.md) prints their values, and
the worklist and web pages carry `Need` values in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Capability(str, Enum):
    ELIGIBILITY = "eligibility"
    AUTHORIZATION = "authorization"
    CLAIM_STATUS = "claim_status"

    @property
    def label(self) -> str:
        return CAPABILITY_LABELS[self]


CAPABILITY_LABELS = {
    Capability.ELIGIBILITY: "eligibility and benefits",
    Capability.AUTHORIZATION: "prior authorizations",
    Capability.CLAIM_STATUS: "claim status",
}


class SearchMode(str, Enum):
    """How the adapter finds an answer on the portal (what staff must supply). Each belongs to one capability."""

    ELIGIBILITY_BY_MEMBER = "eligibility_by_member"
    ELIGIBILITY_BY_NAME = "eligibility_by_name"
    AUTHORIZATIONS_BY_MEMBER = "authorizations_by_member"
    CLAIMS_BY_NUMBER = "claims_by_number"
    CLAIMS_BY_MEMBER_AND_DATES = "claims_by_member_and_dates"

    @property
    def capability(self) -> Capability:
        return _SEARCH_MODES[self][0]

    @property
    def label(self) -> str:
        return _SEARCH_MODES[self][1]


_SEARCH_MODES = {
    SearchMode.ELIGIBILITY_BY_MEMBER: (Capability.ELIGIBILITY,
                                       "member id + date of birth + date of service (last name optional)"),
    SearchMode.ELIGIBILITY_BY_NAME: (Capability.ELIGIBILITY,
                                     "first name + last name + date of birth + date of service, where the payer allows it"),
    SearchMode.AUTHORIZATIONS_BY_MEMBER: (Capability.AUTHORIZATION, "member id + date of birth"),
    SearchMode.CLAIMS_BY_NUMBER: (Capability.CLAIM_STATUS, "payer claim number"),
    SearchMode.CLAIMS_BY_MEMBER_AND_DATES: (Capability.CLAIM_STATUS,
                                            "member id + date of birth + service date range"),
}


class LoginKind(str, Enum):
    """How the portal's sign-in works (what breaks when the portal changes, and what a person sees)."""

    HTML_FORM = "html_form"  # a server-rendered form post (with a CSRF token when the portal sets one)
    SCRIPTED_SPA = "scripted_spa"  # a single-page app whose script signs in against a JSON API
    ASPNET_POSTBACK = "aspnet_postback"  # an ASP.NET WebForms postback (view state, event target)
    # Single sign-on: the portal sends the browser to an identity provider on another origin and back
    # (an OpenID Connect-style redirect with state and nonce, a consent page once).
    IDENTITY_PROVIDER = "identity_provider"

    @property
    def label(self) -> str:
        return {
            LoginKind.HTML_FORM: "HTML form",
            LoginKind.SCRIPTED_SPA: "single-page app (JSON API)",
            LoginKind.ASPNET_POSTBACK: "ASP.NET postback form",
            LoginKind.IDENTITY_PROVIDER: "identity-provider redirect (single sign-on)",
        }[self]


class MfaKind(str, Enum):
    """What the portal asks for after the password. TOTP and security questions are answered from the vault;
    a CAPTCHA (or robot check) always stops the run for a person (`MfaNeedsHuman`)."""

    TOTP = "totp"
    SECURITY_QUESTION = "security_question"
    CAPTCHA = "captcha"
    # Answered only by a person at the screen (aggregator/human_steps.py); a remembered device skips them.
    TEXT_CODE = "text_code"
    EMAIL_CODE = "email_code"
    PUSH = "push"

    @property
    def label(self) -> str:
        return {
            MfaKind.TOTP: "TOTP code (from the vault's seed)",
            MfaKind.SECURITY_QUESTION: "security question (answers in the vault)",
            MfaKind.CAPTCHA: "CAPTCHA / robot check (a person signs in once)",
            MfaKind.TEXT_CODE: "code by text message (a person at the screen; a remembered device skips it)",
            MfaKind.EMAIL_CODE: "code by e-mail (a person at the screen; a remembered device skips it)",
            MfaKind.PUSH: "push approval on a phone (a person; a remembered device skips it)",
        }[self]


class CapKind(str, Enum):
    """A limit of the portal (or of how far the adapter reads it) that a practice plans around."""

    SEARCHES_PER_DAY = "searches_per_day"
    RESULTS_PER_PAGE = "results_per_page"
    RESULT_PAGES_READ = "result_pages_read"
    SEARCH_RANGE_DAYS = "search_range_days"

    @property
    def label(self) -> str:
        return {
            CapKind.SEARCHES_PER_DAY: "searches per day",
            CapKind.RESULTS_PER_PAGE: "results per page",
            CapKind.RESULT_PAGES_READ: "result pages read at most",
            CapKind.SEARCH_RANGE_DAYS: "days a search may span",
        }[self]


class Need(str, Enum):
    """An answer a visit may need. The first three are whole capabilities; the others are parts of one.

    `call_the_payer(manifest, need)` (framework/manifest.py) says whether the portal can give it and, when it
    cannot, what to ask the payer by phone.
    """

    ELIGIBILITY = "eligibility"
    AUTHORIZATIONS = "authorizations"
    CLAIM_STATUS = "claim_status"
    SERVICE_BENEFITS = "service_benefits"
    PRIOR_AUTH_REQUIREMENT = "prior_auth_requirement"
    OUT_OF_NETWORK_BENEFITS = "out_of_network_benefits"
    REMAINING_VISITS = "remaining_visits"
    AUTH_REMAINING_UNITS = "auth_remaining_units"
    CLAIM_LINE_DETAIL = "claim_line_detail"

    @classmethod
    def of_capability(cls, capability: Capability) -> Need:
        """The need for a whole capability ("this carrier has no <capability> at all")."""
        return _WHOLE[capability]

    @property
    def info(self) -> NeedInfo:
        return NEEDS[self]

    @property
    def capability(self) -> Capability:
        return NEEDS[self].capability

    @property
    def is_whole_capability(self) -> bool:
        return _WHOLE[self.capability] is self

    @property
    def per_service(self) -> bool:
        """Whether the answer is per service type, so a portal may show it for some service types only."""
        return NEEDS[self].per_service


@dataclass(frozen=True)
class NeedInfo:
    capability: Capability
    fills: str  # the answer field a person fills from the phone call
    missing: str  # what the portal does not show ("no ..."); per-service needs name "{service}"
    ask: str  # the question for the payer; "{service}" is the visit's service (or "the service")
    per_service: bool = False


NEEDS: dict[Need, NeedInfo] = {
    Need.ELIGIBILITY: NeedInfo(
        Capability.ELIGIBILITY, "EligibilityRecord (coverage status, plan, benefits)",
        "no eligibility or benefits at all",
        "whether the member's coverage is active on the date of service, and the plan's benefits for {service}"),
    Need.AUTHORIZATIONS: NeedInfo(
        Capability.AUTHORIZATION, "AuthorizationList (number, status, dates, approved/used/remaining units)",
        "no prior authorizations at all",
        "the member's prior authorizations on file for {service}: number, status, dates, units approved and "
        "remaining"),
    Need.CLAIM_STATUS: NeedInfo(
        Capability.CLAIM_STATUS, "ClaimList (status, billed, allowed, paid, patient responsibility, check)",
        "no claim status at all",
        "the status of the claim: paid amount, patient responsibility, check or EFT number and date"),
    Need.SERVICE_BENEFITS: NeedInfo(
        Capability.ELIGIBILITY, "EligibilityRecord.benefits (lines for the service type)",
        "no benefits for {service}",
        "the member's benefits for {service}: copay, coinsurance, deductible, visit limit and visits remaining",
        per_service=True),
    Need.PRIOR_AUTH_REQUIREMENT: NeedInfo(
        Capability.ELIGIBILITY, "BenefitLine.prior_auth / EligibilityRecord.prior_auth_service_types",
        "no prior-authorization requirement for {service}",
        "whether {service} needs prior authorization", per_service=True),
    Need.OUT_OF_NETWORK_BENEFITS: NeedInfo(
        Capability.ELIGIBILITY, "EligibilityRecord.benefits (network N lines)",
        "no out-of-network benefits for {service}",
        "the member's out-of-network benefits for {service}: deductible, coinsurance, out-of-pocket maximum",
        per_service=True),
    Need.REMAINING_VISITS: NeedInfo(
        Capability.ELIGIBILITY, "BenefitLine limitation, period remaining (EB06 29)",
        "no visits remaining for {service}",
        "the visits remaining this benefit year for {service}", per_service=True),
    Need.AUTH_REMAINING_UNITS: NeedInfo(
        Capability.AUTHORIZATION, "AuthorizedService.used / AuthorizedService.remaining",
        "no used or remaining units on authorizations",
        "the units used and remaining on the member's authorization for {service}"),
    Need.CLAIM_LINE_DETAIL: NeedInfo(
        Capability.CLAIM_STATUS, "ClaimStatus.lines (per procedure: allowed, paid, adjustments)",
        "no claim line detail",
        "the claim's line detail: per procedure the allowed and paid amounts and the adjustment reasons"),
}

_WHOLE = {
    Capability.ELIGIBILITY: Need.ELIGIBILITY,
    Capability.AUTHORIZATION: Need.AUTHORIZATIONS,
    Capability.CLAIM_STATUS: Need.CLAIM_STATUS,
}
