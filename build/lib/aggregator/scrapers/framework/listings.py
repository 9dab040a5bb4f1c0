"""List pages of the activity flows: what an authorization list or a claim list says, as page models of
their own, and reading the one list table they show.

The adapter checks every detail page against its row (`shows`), so a list and its details that
disagree never make an answer; recorded-page tests pin what a list page says.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from aggregator.errors import ParseError
from aggregator.models import (
    Authorization,
    AuthorizationQuery,
    ClaimQuery,
    ClaimStatus,
    EligibilityQuery,
    EligibilityRecord,
    ServiceType,
)
from aggregator.models.base import Record
from aggregator.models.codes import AuthStatus, ClaimStatusCategory
from aggregator.scrapers.framework.html import Document, TableRow, clean, read_table


class AuthListRow(Record):
    auth_number: str
    service_type: ServiceType
    status: AuthStatus
    effective_date: date | None = None
    expiration_date: date | None = None

    def shows(self, auth: Authorization) -> bool:
        """The detail page says what its row in the list says."""
        return (auth.auth_number, auth.service_type, auth.status, auth.effective_date, auth.expiration_date) == (
            self.auth_number, self.service_type, self.status, self.effective_date, self.expiration_date)


class AuthListing(Record):
    """What an authorization list page says, rows in page order."""

    kind: Literal["authorization_listing"] = "authorization_listing"
    member_id: str
    date_of_birth: date
    rows: tuple[AuthListRow, ...] = ()


class ClaimListRow(Record):
    claim_number: str
    provider_account_number: str
    service_from: date
    service_to: date
    billed: Decimal
    paid: Decimal
    status_category: ClaimStatusCategory

    def shows(self, claim: ClaimStatus) -> bool:
        """The claim's own page (or document) says what its row in the list says."""
        return (claim.payer_claim_number, claim.provider_account_number, claim.service_from, claim.service_to,
                claim.billed, claim.paid, claim.status_category) == (
            self.claim_number, self.provider_account_number, self.service_from, self.service_to,
            self.billed, self.paid, self.status_category)


def claim_number_key(text: str) -> str:
    """How portals match claim numbers: white space removed, upper case."""
    return re.sub(r"\s+", "", text).upper()


def searched(query: ClaimQuery) -> tuple[Any, ...]:
    """(claim number, member id, from, to) as a results page repeats the search `query` made."""
    if query.claim_number:
        return claim_number_key(query.claim_number), None, None, None
    return None, query.member_id, query.service_from, query.service_to


def list_table_rows(doc: Document, headers: tuple[str, ...], *, name: str) -> list[TableRow] | None:
    """Body rows of the page's one list table; None when the page shows no such table."""
    tables = doc.tables_with_headers(*headers)
    if not tables:
        return None
    if len(tables) != 1:
        raise ParseError(f"expected one {name} table, found {len(tables)}")
    return read_table(tables[0], name=name, required=headers)[1]


def listed_rows(doc: Document, headers: tuple[str, ...], *, name: str, none_message: str) -> list[TableRow]:
    """The rows of a list page: its table's rows, or none when the page says so (and shows no table)."""
    rows = list_table_rows(doc, headers, name=name)
    if doc.has_text(none_message):
        if rows is not None:
            raise ParseError(f"the {name} says there is nothing to list and shows a list")
        return []
    if not rows:
        raise ParseError(f"the {name} shows no rows and no 'none found' message")
    return rows


def listed_once(numbers: list[str], *, what: str) -> None:
    """A number listed twice cannot be told apart: an error, never a merge."""
    if len(set(numbers)) != len(numbers):
        raise ParseError(f"{what} is listed twice")


def check_answers_search(answer: object, query: EligibilityQuery | AuthorizationQuery | ClaimQuery) -> None:
    """A page read correctly can still be about another member, claim or day than the one asked (a
    session mixed up, a digit changed): it is no answer. Checks every record a page gives against the
    search that led to it; list pages repeat their own criteria and are checked where they are read."""
    if isinstance(answer, EligibilityRecord) and isinstance(query, EligibilityQuery):
        member = answer.member
        if (member.member_id, member.date_of_birth, answer.service_date) != (
                query.member_id, query.date_of_birth, query.service_date):
            raise ParseError("the benefits page is for another member, birth date or date of service than asked")
        if query.last_name and clean(member.last_name).casefold() != clean(query.last_name).casefold():
            raise ParseError("the benefits page is for a member with another last name than asked")
    elif isinstance(answer, AuthListing) and isinstance(query, AuthorizationQuery):
        if (answer.member_id, answer.date_of_birth) != (query.member_id, query.date_of_birth):
            raise ParseError("the authorization list is for another member than the one searched")
    elif isinstance(answer, Authorization) and isinstance(query, AuthorizationQuery):
        if answer.member_id != query.member_id:
            raise ParseError("the authorization belongs to another member than the one searched")
    elif isinstance(answer, ClaimStatus) and isinstance(query, ClaimQuery):
        if query.claim_number:
            if claim_number_key(answer.payer_claim_number) != claim_number_key(query.claim_number):
                raise ParseError("the claim shown is not the claim number searched")
        elif answer.member_id != query.member_id:
            raise ParseError("the claim belongs to another member than the one searched")
        elif query.service_from and query.service_to and (
                answer.service_to < query.service_from or answer.service_from > query.service_to):
            raise ParseError("the claim falls outside the dates of service searched")
