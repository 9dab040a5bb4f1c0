"""The activity flows' walk from a list page to each listed item's detail page, and the checks on the
way: the list is for the member (or the search) asked about, its links are its rows, each detail page
says what its row says. Which link opens a detail (a path, a postback) is the carrier's part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from aggregator.browser import Capture
from aggregator.errors import ParseError
from aggregator.models import Authorization, AuthorizationList, AuthorizationQuery, ClaimQuery, MemberNotFound
from aggregator.scrapers.framework.adapter import CarrierAdapter
from aggregator.scrapers.framework.html import Document
from aggregator.scrapers.framework.listings import AuthListing, searched

L = TypeVar("L")


def links_for_rows(adapter: CarrierAdapter, read_links: Callable[[Document], Mapping[str, L]], capture: Capture,
                   numbers: Iterable[str], *, what: str) -> Mapping[str, L]:
    """The links of a captured list page, exactly one per listed number."""
    links = adapter.pure(lambda: read_links(Document.parse(capture.html)), capture)
    if set(links) != set(numbers):
        raise adapter.attach(ParseError(f"the {what}'s links disagree with its rows"), capture)
    return links


def check_same_search(adapter: CarrierAdapter, listing: Any, query: ClaimQuery, capture: Capture, *, what: str) -> None:
    """A claim results page repeats the search: it must be the search we made."""
    if (listing.claim_number, listing.member_id, listing.service_from, listing.service_to) != searched(query):
        raise adapter.attach(ParseError(f"the {what} is for a different search than the one made"), capture)


async def authorizations_from_list(
        adapter: CarrierAdapter, query: AuthorizationQuery, listed: Capture, *, what: str,
        read_links: Callable[[Document], Mapping[str, L]], open_detail: Callable[[L], Awaitable[None]],
        back: Callable[[], Awaitable[None]] | None = None) -> AuthorizationList | MemberNotFound:
    """From the captured list page (or "not found"): open, capture and check every listed authorization.

    `open_detail` follows a row's link to its detail page (and lands there); `back`, when the portal
    needs it, returns from a detail page to the list.
    """
    listing = adapter.read("authorization", listed, query, AuthListing, MemberNotFound)
    if isinstance(listing, MemberNotFound):
        return listing.model_copy(update={"provenance": adapter.provenance(listed)})
    if (listing.member_id, listing.date_of_birth) != (query.member_id, query.date_of_birth):
        raise adapter.attach(ParseError(f"the {what} is for a different member than the one searched"), listed)
    links = links_for_rows(adapter, read_links, listed, (row.auth_number for row in listing.rows), what=what)
    captures, found = [listed], []
    for row in listing.rows:
        await open_detail(links[row.auth_number])
        _, detail = await adapter.capture("authorization-detail")
        captures.append(detail)
        auth = adapter.read("authorization", detail, query, Authorization)
        if not row.shows(auth):
            raise adapter.attach(ParseError(f"an authorization's detail page disagrees with its row in the {what}"),
                                 listed, detail)
        if auth.member_id != query.member_id:
            raise adapter.attach(ParseError("a listed authorization belongs to a different member"), detail)
        # Each authorization names the two pages it was read from, so an auditor can show exactly those.
        found.append(auth.model_copy(update={"provenance": adapter.provenance(listed, detail)}))
        if back is not None:
            await back()
    return adapter.pure(lambda: AuthorizationList(carrier=adapter.manifest.slug, query=query,
                                                  authorizations=tuple(found),
                                                  provenance=adapter.provenance(*captures)), *captures)
