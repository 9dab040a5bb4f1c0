"""Ground truth of Cascade's own recorded page kinds (see `sandbox.ground_truth.recorded_page`).

"claim-report": Cascade's fixed-width claim status report; "eob-offer:<number>": the claim page that
offers the claim's EOB PDF for download.
"""

from __future__ import annotations

from aggregator.models.claims import ClaimList
from sandbox.ground_truth import claim_row, record_on_page

PAGE_KINDS = ("claim-report", "eob-offer:")
PAGES_WHEN_REFUSED = ("claim-report",)  # a refused search still shows the (empty) report


def page_truth(found: ClaimList, page: str) -> object:
    if page == "claim-report":
        return claim_report(found)
    if page.startswith("eob-offer:"):
        from aggregator.scrapers.cascade.pages_activity import EobOffer

        claim = record_on_page(found.claims, page.replace("eob-offer:", "claim:"), "claim:",
                               lambda c: c.payer_claim_number)
        return EobOffer(claim_number=claim.payer_claim_number)
    raise ValueError(f"Cascade has no '{page}' page")


def claim_report(listed: ClaimList) -> object:
    """Every claim on one report, newest service date first (ties: higher claim number first), under the
    criteria it repeats."""
    from aggregator.scrapers.cascade.pages_activity import ClaimReport

    query = listed.query
    ordered = sorted(listed.claims, key=lambda c: (c.service_from, c.payer_claim_number), reverse=True)
    return ClaimReport(claim_number=query.claim_number, member_id=query.member_id, service_from=query.service_from,
                       service_to=query.service_to, rows=tuple(claim_row(c) for c in ordered))
