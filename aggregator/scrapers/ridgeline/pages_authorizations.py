"""Ridgeline Mutual authorization screens: member search -> list -> one detail page per authorization.

The list says which authorizations exist (number, service, status, dates); each detail page carries
the record. Both are parsed purely from captured HTML. The list is returned as `AuthListing`, a page
model of its own, so the adapter can check every detail page against its row and recorded-page tests
can pin what a list page says.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from aggregator.errors import ParseError, UnexpectedPage
from aggregator.models import (
    Authorization,
    AuthorizationQuery,
    AuthorizedService,
    MemberNotFound,
    ServiceType,
)
from aggregator.models.base import Record
from aggregator.models.codes import AuthStatus
from aggregator.scrapers.framework import Document, PortalPage, classify, header_key, parse_date, read_table
from aggregator.scrapers.ridgeline import maps
from aggregator.scrapers.ridgeline.pages import (
    Labels,
    build,
    link_in,
    member_id_of,
    parse_not_found,
    parse_quantity,
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


# --- the list page's content ------------------------------------------------------------------------

class AuthListRow(Record):
    auth_number: str
    service_type: ServiceType
    status: AuthStatus
    effective_date: date | None = None
    expiration_date: date | None = None


class AuthListing(Record):
    """What an authorization list page says, rows in page order (the portal lists newest update first)."""

    kind: Literal["authorization_listing"] = "authorization_listing"
    member_id: str
    date_of_birth: date
    rows: tuple[AuthListRow, ...] = ()


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
    labels = Labels(doc, "authorization list")
    member_id = member_id_of(labels.text("Member ID:"), field="member id")
    date_of_birth = labels.day("Date of Birth:")
    tables = doc.tables_with_headers(*LIST_HEADERS)
    if doc.has_text(maps.NO_AUTHORIZATIONS):
        if tables:
            raise ParseError("the authorization list says there are none and shows a list")
        return build(AuthListing, "authorization list", member_id=member_id, date_of_birth=date_of_birth)
    if len(tables) != 1:
        raise ParseError(f"expected one authorization list table, found {len(tables)}")
    _, rows = read_table(tables[0], name="authorization list", required=LIST_HEADERS)
    if not rows:
        raise ParseError("the authorization list table has no rows and no 'none on file' message")
    listed = []
    for row in rows:
        listed.append(build(
            AuthListRow, "authorization list row",
            auth_number=_auth_number(row.text("Auth #")),
            service_type=maps.AUTH_SERVICE_TYPES(row.text("Service")),
            status=maps.AUTH_STATUS(row.text("Status")),
            effective_date=_optional_date(row.text("Effective"), field="effective date"),
            expiration_date=_optional_date(row.text("Expires"), field="expiration date"),
        ))
    numbers = [r.auth_number for r in listed]
    if len(set(numbers)) != len(numbers):
        raise ParseError("an authorization number is listed twice")
    return build(AuthListing, "authorization list", member_id=member_id, date_of_birth=date_of_birth,
                 rows=tuple(listed))


def auth_links(doc: Document) -> dict[str, str]:
    """Authorization number -> the path its `Auth #` link opens (the detail page)."""
    tables = doc.tables_with_headers(*LIST_HEADERS)
    if not tables:
        return {}
    if len(tables) != 1:
        raise ParseError(f"expected one authorization list table, found {len(tables)}")
    _, rows = read_table(tables[0], name="authorization list", required=LIST_HEADERS)
    links: dict[str, str] = {}
    for row in rows:
        text, href = link_in(row["Auth #"], field="authorization number")
        number = _auth_number(text)
        if number in links:
            raise ParseError("an authorization number is listed twice")
        links[number] = href
    return links


def parse_auth_detail(doc: Document, carrier: str) -> Authorization:
    labels = Labels(doc, "authorization detail")
    npi = labels.optional("Provider NPI:")
    if npi is not None and not (len(npi) == 10 and npi.isdigit()):
        raise ParseError("provider NPI is not ten digits")
    reason = labels.optional("Decision Reason:")
    return build(
        Authorization, "authorization detail",
        carrier=carrier,
        member_id=member_id_of(labels.text("Member ID:"), field="member id"),
        auth_number=_auth_number(labels.text("Authorization Number:")),
        status=maps.AUTH_STATUS(labels.text("Status:")),
        request_category=maps.REQUEST_TYPES(labels.text("Request Type:")),
        service_type=maps.AUTH_SERVICE_TYPES(labels.text("Service Type:")),
        services=_parse_services(doc),
        effective_date=labels.optional_day("Effective Date:"),
        expiration_date=labels.optional_day("Expiration Date:"),
        servicing_provider_name=labels.text("Servicing Provider:"),
        servicing_provider_npi=npi,
        decision_reason=None if reason is None else maps.DECISION_REASONS(reason),
        last_updated=labels.day("Last Updated:"),
    )


def _parse_services(doc: Document) -> tuple[AuthorizedService, ...]:
    table = doc.table_with_headers(*SERVICE_HEADERS, field="authorized services")
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
    return tuple(services)


def _auth_number(text: str) -> str:
    if not text or not text.isalnum():
        raise ParseError("authorization number is not a number the portal issues")
    return text


def _optional_date(text: str, *, field: str) -> date | None:
    return None if text == maps.NOT_APPLICABLE else parse_date(text, field=field)
