import json
from pathlib import Path

import pytest

from aggregator.errors import ConfigurationError
from aggregator.scrapers.framework import CarrierAdapter, CredentialField, Manifest
from aggregator.scrapers.registry import adapter_for, all_adapters

RECORDED = Path(__file__).parents[1] / "recorded_pages"
ADAPTERS = all_adapters()


@pytest.mark.parametrize("adapter", ADAPTERS, ids=[a.manifest.slug for a in ADAPTERS])
def test_adapter_is_complete_and_consistent(adapter: type[CarrierAdapter]) -> None:
    manifest = adapter.manifest
    assert isinstance(manifest, Manifest)
    assert adapter.__module__.split(".")[2] == manifest.slug, "slug = folder = registry key"
    assert adapter.__name__.lower() == f"{manifest.slug}adapter"
    assert manifest.capabilities, "an adapter declares what it can do"
    assert adapter.implemented_capabilities() == manifest.capabilities, "declared == implemented"
    assert {CredentialField.USERNAME, CredentialField.PASSWORD} <= manifest.credential_fields
    assert manifest.base_url.startswith(("http://127.0.0.1", "https://"))
    for capability in manifest.capabilities:
        where = f"{manifest.slug}/{capability.value}"
        cases = list((RECORDED / manifest.slug / capability.value).glob("*.html"))
        assert len(cases) >= 3, f"{where} needs recorded pages, error pages included"
        expected = [json.loads(c.with_suffix(".expected.json").read_text()) for c in cases]
        assert any("record" in e for e in expected), f"{where} needs a page that yields a record"
        assert any("error" in e for e in expected), f"{where} needs an error page (no record may come out of it)"
        if manifest.is_hub:
            # A hub is tested per payer it serves: each payer's own result page yields a record for that payer.
            payers = {e["record"].get("carrier") for e in expected if "record" in e}
            missing = {p.slug for p in manifest.served_payers()} - payers
            assert not missing, f"{where} needs a recorded page yielding a record for each payer: {sorted(missing)}"


def test_lookup_by_slug_or_display_name_and_unknown_named():
    for adapter in ADAPTERS:
        assert adapter_for(adapter.manifest.slug) is adapter
        assert adapter_for(f" {adapter.manifest.display_name.upper()} ") is adapter
    with pytest.raises(ConfigurationError, match="unknown carrier 'no-such-carrier'") as raised:
        adapter_for("no-such-carrier")
    assert all(a.manifest.slug in str(raised.value) for a in ADAPTERS), "the error names every known carrier"
