"""Ground truth of Ridgeline's own recorded page kinds (see `sandbox.ground_truth.recorded_page`).

"claim-results:<n>" / "claim-results:last": Ridgeline's claim search results come in pages of 10.
"""

from __future__ import annotations

from aggregator.models.claims import ClaimList
from sandbox.ground_truth import claim_row
from sandbox.ridgeline.vocabulary import CLAIMS_PER_PAGE

PAGE_KINDS = ("claim-results:",)
PAGES_WHEN_REFUSED = ("claim-results:1",)  # a refused search still shows the first (empty) results page


def page_truth(found: ClaimList, page: str) -> object:
    return claim_results_listing(found, page.removeprefix("claim-results:"))


def claim_results_listing(listed: ClaimList, which: str) -> object:
    """Results page `which` ("<n>" or "last"): newest service dates first (ties by claim number), 10 per
    page; "No claims found" is page 1 of 1."""
    from aggregator.scrapers.ridgeline.pages_claims import ClaimResultsListing

    ordered = sorted(listed.claims, key=lambda c: c.payer_claim_number)
    ordered.sort(key=lambda c: (c.service_from, c.service_to), reverse=True)
    pages = [ordered[i:i + CLAIMS_PER_PAGE] for i in range(0, len(ordered), CLAIMS_PER_PAGE)] or [[]]
    number = len(pages) if which == "last" else int(which)
    if not 1 <= number <= len(pages) or (which == "last" and len(pages) < 2):
        raise ValueError(f"the search has {len(pages)} result page(s), not page {which}")
    query = listed.query
    criteria: dict[str, object] = ({"claim_number": query.claim_number} if query.claim_number else
                                   {"member_id": query.member_id, "service_from": query.service_from,
                                    "service_to": query.service_to})
    return ClaimResultsListing(**criteria, total=len(listed.claims), page=number, pages=len(pages),
                               has_next=number < len(pages), rows=tuple(claim_row(c) for c in pages[number - 1]))
