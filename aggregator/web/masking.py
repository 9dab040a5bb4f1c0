"""Which masks a carrier's evidence gets when shown to staff: its manifest's `evidence_masks` plus the
product-wide defaults (aggregator/evidence_mask.py does the masking; it sits below the scrapers, so the
registry is read here)."""

from __future__ import annotations

from aggregator.errors import ConfigurationError
from aggregator.evidence_mask import MaskRules, rules_of
from aggregator.scrapers.registry import adapter_for


def rules_for(carrier: str) -> MaskRules:
    """The masks for a carrier slug (only the defaults for an unknown or retired carrier)."""
    try:
        manifest = adapter_for(carrier).manifest
    except ConfigurationError:
        return MaskRules()
    return rules_of(manifest)
