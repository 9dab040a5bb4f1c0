from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from aggregator.models import ServiceType
from aggregator.scrapers.framework import Capability, CredentialField, MaintenanceWindow, Manifest
from aggregator.scrapers.framework.manifest import (
    Cap,
    CapKind,
    Gap,
    LoginKind,
    MfaKind,
    Need,
    SearchMode,
    call_the_payer,
    checklist,
)

NY = ZoneInfo("America/New_York")


def test_window_crossing_midnight_belongs_to_its_start_day():
    window = MaintenanceWindow(weekdays=frozenset({6}), start=time(23, 0), end=time(2, 0))  # Sunday night
    assert window.contains(datetime(2026, 11, 29, 23, 30, tzinfo=NY))  # Sunday 23:30
    assert window.contains(datetime(2026, 11, 30, 1, 59, tzinfo=NY))  # Monday 01:59
    assert not window.contains(datetime(2026, 11, 30, 2, 0, tzinfo=NY))
    assert not window.contains(datetime(2026, 11, 28, 23, 30, tzinfo=NY))  # Saturday


def test_window_uses_the_carriers_zone():
    window = MaintenanceWindow(start=time(1, 0), end=time(3, 0), timezone="America/New_York")
    assert window.contains(datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("UTC")))  # 02:00 in New York
    assert not window.contains(datetime(2026, 11, 27, 2, 0, tzinfo=ZoneInfo("UTC")))


# --- what a practice needs to know: search modes, sign-in, caps, gaps and call-the-payer -----------------

LISTED = frozenset({ServiceType.PHYSICAL_THERAPY, ServiceType.OFFICE_VISIT})


def eligibility_only(**changes: object) -> Manifest:
    """A valid eligibility-only manifest, with `changes` applied and validated again."""
    fields: dict[str, object] = dict(
        slug="acme", display_name="Acme Health", base_url="http://127.0.0.1:8199",
        capabilities=frozenset({Capability.ELIGIBILITY}),
        search_modes=frozenset({SearchMode.ELIGIBILITY_BY_MEMBER}),
        login_kind=LoginKind.HTML_FORM, mfa_kinds=frozenset({MfaKind.TOTP}),
        credential_fields=frozenset({CredentialField.USERNAME, CredentialField.PASSWORD,
                                     CredentialField.TOTP_SECRET}),
        gaps=(Gap(need=Need.SERVICE_BENEFITS, shown_for=LISTED), Gap(need=Need.OUT_OF_NETWORK_BENEFITS)),
    )
    return Manifest(**{**fields, **changes})


def test_a_missing_capability_gives_a_call_the_payer_item_naming_the_carrier():
    manifest = eligibility_only()
    item = call_the_payer(manifest, Capability.AUTHORIZATION, ServiceType.PHYSICAL_THERAPY)
    assert item is not None and item.not_at_carrier
    assert item.need is Need.AUTHORIZATIONS and item.capability is Capability.AUTHORIZATION
    assert item.missing == "no prior authorizations at all"
    assert item.text.startswith("Call Acme Health provider services: ask the member's prior authorizations")
    assert "Physical Therapy" in item.text and item.fills.startswith("AuthorizationList")
    # A part of a missing capability is "not at this carrier" too, with its own question.
    units = call_the_payer(manifest, Need.AUTH_REMAINING_UNITS)
    assert units is not None and units.not_at_carrier and "for the service" in units.ask


def test_a_declared_capability_without_a_gap_needs_no_call():
    manifest = eligibility_only()
    assert call_the_payer(manifest, Capability.ELIGIBILITY) is None
    assert call_the_payer(manifest, Need.REMAINING_VISITS, ServiceType.PHYSICAL_THERAPY) is None


def test_a_per_service_gap_applies_only_outside_the_listed_service_types():
    manifest = eligibility_only()
    assert call_the_payer(manifest, Need.SERVICE_BENEFITS, ServiceType.PHYSICAL_THERAPY) is None
    assert call_the_payer(manifest, Need.SERVICE_BENEFITS) is None  # an unknown service is not assumed missing
    item = call_the_payer(manifest, Need.SERVICE_BENEFITS, ServiceType.SPEECH_THERAPY)
    assert item is not None and not item.not_at_carrier
    assert item.missing == "no benefits for Speech Therapy"
    assert item.text == ("Call Acme Health provider services: ask the member's benefits for Speech Therapy: copay, "
                         "coinsurance, deductible, visit limit and visits remaining")


def test_a_gap_for_every_service_applies_to_any_visit():
    item = call_the_payer(eligibility_only(), Need.OUT_OF_NETWORK_BENEFITS)
    assert item is not None and item.missing == "no out-of-network benefits for any service"
    assert "out-of-network benefits for the service" in item.ask


def test_the_checklist_lists_missing_capabilities_then_gaps_with_a_placeholder_service():
    items = checklist(eligibility_only())
    assert [i.need for i in items] == [Need.AUTHORIZATIONS, Need.CLAIM_STATUS, Need.SERVICE_BENEFITS,
                                       Need.OUT_OF_NETWORK_BENEFITS]
    assert [i.not_at_carrier for i in items] == [True, True, False, False]
    assert items[2].missing == "no benefits for the service types it does not list"
    assert "<service>" in items[2].ask


@pytest.mark.parametrize(("changes", "message"), [
    ({"gaps": (Gap(need=Need.CLAIM_LINE_DETAIL),)}, "part of claim_status, which is not declared"),
    ({"gaps": (Gap(need=Need.OUT_OF_NETWORK_BENEFITS), Gap(need=Need.OUT_OF_NETWORK_BENEFITS))}, "declared twice"),
    ({"capabilities": frozenset({Capability.ELIGIBILITY, Capability.CLAIM_STATUS})},
     "claim_status is declared without a search mode"),
    ({"search_modes": frozenset({SearchMode.ELIGIBILITY_BY_MEMBER, SearchMode.CLAIMS_BY_NUMBER})},
     "search mode 'claims_by_number' is for claim_status, which is not declared"),
    ({"mfa_kinds": frozenset()}, "MFA kind 'totp' and credential field 'totp_secret' go together"),
    ({"mfa_kinds": frozenset({MfaKind.TOTP, MfaKind.SECURITY_QUESTION})},
     "MFA kind 'security_question' and credential field 'security_answers' go together"),
    ({"caps": (Cap(kind=CapKind.RESULTS_PER_PAGE, value=10, capability=Capability.CLAIM_STATUS),)},
     "cap 'results_per_page' is for claim_status, which is not declared"),
])
def test_a_manifest_that_contradicts_itself_is_refused(changes: dict, message: str):
    with pytest.raises(ValidationError, match=message):
        eligibility_only(**changes)


def test_a_gap_is_never_a_whole_capability_and_only_per_service_needs_list_services():
    with pytest.raises(ValidationError, match="whole capability: leave the capability out"):
        Gap(need=Need.AUTHORIZATIONS)
    with pytest.raises(ValidationError, match="not answered per service type"):
        Gap(need=Need.CLAIM_LINE_DETAIL, shown_for=LISTED)
    with pytest.raises(ValidationError, match="an empty list means none"):
        Gap(need=Need.SERVICE_BENEFITS, shown_for=frozenset())


def test_every_need_belongs_to_one_capability_and_each_capability_has_its_whole_need():
    for capability in Capability:
        whole = Need.of_capability(capability)
        assert whole.capability is capability and whole.is_whole_capability
    for need in Need:
        assert need.info.fills and need.info.ask and need.info.missing
