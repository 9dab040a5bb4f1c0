"""Ground truth for the hub's payers: what the Crossway hub shows, from the data alone (never from HTML).

Every function takes the generated `Dataset` (the hub's data is derived from it: `crossway_dataset`) or the
running hub's `HubState` (its current data, after run-time changes), and a payer slug of the hub's list.
Records are the product's own models (`carrier` = the payer slug), as for every sandbox carrier, so the
product's tests compare what the hub adapter extracted with these, field by field; a Ridgeline Mutual
record through the hub equals the one from Ridgeline's own portal.
"""

from __future__ import annotations

import re
from datetime import date

from aggregator.models import EligibilityQuery, EligibilityRecord, MemberNotFound, RejectReason
from aggregator.models.claims import ClaimList, ClaimQuery, ClaimStatus
from sandbox import ground_truth
from sandbox.crossway.payers import crossway_dataset, hub_payer
from sandbox.dataset import Dataset, MemberData
from sandbox.ground_truth import DatasetSource


def hub_data(source: DatasetSource) -> Dataset:
    """The hub's payers' data: from a `HubState`, its current data; from a generated `Dataset`, derived."""
    if isinstance(source, Dataset):
        return crossway_dataset(source)
    return source.current_dataset()


def _payer(slug: str) -> str:
    if hub_payer(slug) is None:
        raise KeyError(f"the Crossway hub lists no payer '{slug}'")
    return slug


def eligibility(source: DatasetSource, payer: str, query: EligibilityQuery) -> EligibilityRecord | MemberNotFound:
    """A member id + DOB search (`sandbox.ground_truth.eligibility` rules; the hub sends no last name)."""
    return ground_truth.eligibility(hub_data(source), _payer(payer), query)


def claims(source: DatasetSource, payer: str, query: ClaimQuery) -> ClaimList | RejectReason:
    return ground_truth.claims(hub_data(source), _payer(payer), query)


def claim(source: DatasetSource, payer: str, claim_number: str) -> ClaimStatus | None:
    return ground_truth.claim(hub_data(source), _payer(payer), claim_number)


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def name_candidates(source: DatasetSource, payer: str, first_name: str, last_name: str,
                    date_of_birth: date) -> list[MemberData]:
    """A first + last name + DOB search (payers with `name_search`): every member with that name (case and
    spacing ignored) and birth date, in member id order. Several when a person has a prior enrollment."""
    data = hub_data(source).carrier(_payer(payer))
    wanted = (_key(first_name), _key(last_name), date_of_birth)
    found = [m for m in data.members.values() if (_key(m.first_name), _key(m.last_name), m.date_of_birth) == wanted]
    return sorted(found, key=lambda m: m.member_id)
