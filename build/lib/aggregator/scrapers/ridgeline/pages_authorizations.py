"""Ridgeline Mutual authorization screens: member search -> list -> one detail page per authorization.

The list says which authorizations exist (number, service, status, dates); each detail page carries
the record. Both are parsed purely from captured HTML. The list is returned as the framework's
`AuthListing` page model, so the adapter can check every detail page against its row and recorded-page
tests can pin what a list page says (the portal lists newest update first).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aggregator.errors import ParseError, UnexpectedPage
from aggregator.models import Authorization, AuthorizationQuery, AuthorizedService, MemberNotFound
from aggregator.scrapers.framework import (
    Document,
    PortalPage,
    build,
    classify,
    header_key,
    member_id_of,
    npi_of,
    parse_date,
    parse_quantity,
    portal_number,
    read_table,
)
from aggregator.scrapers.framework.listings import AuthListing, AuthListRow, list_table_rows, listed_once, listed_rows
from aggregator.scrapers.ridgeline import maps
from aggregator.scrapers.ridgeline.pages import (
    link_in,
    page_labels,
    parse_not_found,
    require_footer_after,
    saying,
    title_is,
)

LIST_HEADERS = ("Auth #", "Service", "Status", "Effective", "Expires")
SERVICE_HEADERS = ("Code", "Approved", "Used", "Remaining", "Unit")
NOTES_HEADER = "Notes"  # v2 only, informational except for "Exhausted"


# --- recognition ------------------------------------------------------------------------------------

class AuthSearchPage(PortalPage):
    """The authorization member search; after a search it carries the "not found" messages."""

    name = "authorization search"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Authorization Search") and bool(doc.select("input[name=memberId]"))


class AuthListPage(PortalPage):
    name = "authorization list"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Authorizations") and (
            bool(doc.tables_with_headers(*LIST_HEADERS)) or doc.has_text(maps.NO_AUTHORIZATIONS))


class AuthDetailPage(PortalPage):
    name = "authorization detail"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Authorization Detail") and bool(doc.tables_with_headers(*SERVICE_HEADERS))


# --- parsers ----------------------------------------------------------------------------------------

def parse_auth_answer(doc: Document, query: AuthorizationQuery, carrier: str) -> AuthListing | Authorization | MemberNotFound:
    """Any page an authorization lookup reads an answer from: the list, a detail page, or "not found"."""
    page = classify(doc, "", (AuthListPage, AuthDetailPage, AuthSearchPage))
    if page is AuthListPage:
        return parse_auth_list(doc)
    if page is AuthDetailPage:
        return parse_auth_detail(doc, carrier)
    if page is AuthSearchPage:
        return parse_not_found(doc, query, carrier)
    raise UnexpectedPage("the page is none of the authorization list, detail or search pages")


def parse_auth_list(doc: Document) -> AuthListing:
    """The list page; complete when the portal's footer follows the list table (the page shows no count
    or pager), so a list cut short is an error, never a shorter list."""
    labels = page_labels(doc, "authorization list")
    rows = listed_rows(doc, LIST_HEADERS, name="authorization list", none_message=maps.NO_AUTHORIZATIONS)
    tables = doc.tables_with_headers(*LIST_HEADERS)
    end = tables[0] if tables else saying(doc, maps.NO_AUTHORIZATIONS)
    if end is None:
        raise ParseError("the authorization list shows neither a list nor its 'none on file' message")
    require_footer_after(doc, end, what="the authorization list")
    listed = [build(
        AuthListRow, "authorization list row",
        auth_number=portal_number(row.text("Auth #"), field="authorization number"),
        service_type=maps.AUTH_SERVICE_TYPES(row.text("Service")),
        status=maps.AUTH_STATUS(row.text("Status")),
        effective_date=_optional_date(row.text("Effective"), field="effective date"),
        expiration_date=_optional_date(row.text("Expires"), field="expiration date"),
    ) for row in rows]
    listed_once([r.auth_number for r in listed], what="an authorization number")
    return build(AuthListing, "authorization list", member_id=member_id_of(labels.text("Member ID:"), field="member id"),
                 date_of_birth=labels.day("Date of Birth:"), rows=tuple(listed))


def auth_links(doc: Document) -> dict[str, str]:
    """Authorization number -> the path its `Auth #` link opens (the detail page)."""
    links: dict[str, str] = {}
    for row in list_table_rows(doc, LIST_HEADERS, name="authorization list") or []:
        text, href = link_in(row["Auth #"], field="authorization number")
        number = portal_number(text, field="authorization number")
        listed_once([*links, number], what="an authorization number")
        links[number] = href
    return links


def parse_auth_detail(doc: Document, carrier: str) -> Authorization:
    labels = page_labels(doc, "authorization detail")
    reason = labels.optional("Decision Reason:")
    return build(
        Authorization, "authorization detail",
        carrier=carrier,
        member_id=member_id_of(labels.text("Member ID:"), field="member id"),
        auth_number=portal_number(labels.text("Authorization Number:"), field="authorization number"),
        status=maps.AUTH_STATUS(labels.text("Status:")),
        request_category=maps.REQUEST_TYPES(labels.text("Request Type:")),
        service_type=maps.AUTH_SERVICE_TYPES(labels.text("Service Type:")),
        services=_parse_services(doc),
        effective_date=labels.optional_day("Effective Date:"),
        expiration_date=labels.optional_day("Expiration Date:"),
        servicing_provider_name=labels.text("Servicing Provider:"),
        servicing_provider_npi=npi_of(labels.optional("Provider NPI:")),
        decision_reason=None if reason is None else maps.DECISION_REASONS(reason),
        last_updated=labels.day("Last Updated:"),
    )


def _parse_services(doc: Document) -> tuple[AuthorizedService, ...]:
    """The authorized services table; complete when the portal's footer follows it."""
    table = doc.table_with_headers(*SERVICE_HEADERS, field="authorized services")
    require_footer_after(doc, table, what="the authorized services table")
    headers, rows = read_table(table, name="authorized services", required=SERVICE_HEADERS)
    has_notes = header_key(NOTES_HEADER) in headers
    services = []
    for row in rows:
        code = row.text("Code")
        approved = parse_quantity(row.text("Approved"), field=f"{code} approved")
        used = parse_quantity(row.text("Used"), field=f"{code} used")
        remaining = parse_quantity(row.text("Remaining"), field=f"{code} remaining")
        if has_notes:
            # The note restates the numbers: "Exhausted" exactly when every approved unit is used.
            exhausted = header_key(row.text(NOTES_HEADER)) == header_key(maps.EXHAUSTED_NOTE)
            if exhausted != (approved > Decimal(0) and remaining == Decimal(0)):
                raise ParseError(f"{code}: the 'Exhausted' note disagrees with the remaining quantity")
        services.append(build(AuthorizedService, f"authorized service {code}", procedure_code=code,
                              unit=maps.UNITS(row.text("Unit")), approved=approved, used=used, remaining=remaining))
    if not services:
        # Every request is for at least one procedure: an empty table is a page that lost its rows.
        raise ParseError("the authorized services table lists no service")
    return tuple(services)


def _optional_date(text: str, *, field: str) -> date | None:
    return None if text == maps.NOT_APPLICABLE else parse_date(text, field=field)
