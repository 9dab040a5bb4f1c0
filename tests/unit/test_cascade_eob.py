"""Cascade EOB PDFs parse to exactly the ground truth claim; a PDF that contradicts itself gives no record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.errors import ParseError, UnmappedValue
from aggregator.models import ClaimStatus
from aggregator.scrapers.cascade import CascadeAdapter
from sandbox import ground_truth
from sandbox.cascade.eob import eob_pdf
from sandbox.dataset import generate_dataset

EOBS = sorted((Path(__file__).parent.parent / "recorded_pages" / "cascade" / "eob").glob("*.pdf"))


@pytest.mark.parametrize("pdf", EOBS, ids=[p.stem for p in EOBS])
def test_recorded_eob_parses_to_its_expected_claim(pdf: Path) -> None:
    expected = ClaimStatus.model_validate(json.loads(pdf.with_suffix(".expected.json").read_text())["record"])
    assert CascadeAdapter.parse_document("eob", pdf.read_bytes()) == expected


def test_there_are_eobs_of_paid_denied_and_open_claims() -> None:
    assert {"eob_f1", "eob_f2", "eob_a1"} <= {p.stem for p in EOBS}


@pytest.fixture(scope="module")
def paid() -> tuple:
    dataset = generate_dataset()
    data = dataset.carrier("cascade")
    claim = next(ground_truth.claim(dataset, "cascade", c.claim_number) for c in data.claims.values()
                 if c.status_category.value == "F1" and len(c.lines) >= 2)
    return claim, data.member(claim.member_id), dataset.as_of


def test_every_generated_claim_round_trips() -> None:
    dataset = generate_dataset()
    data = dataset.carrier("cascade")
    for number in list(data.claims)[:60]:
        claim = ground_truth.claim(dataset, "cascade", number)
        assert CascadeAdapter.parse_document("eob", eob_pdf(claim, data.member(claim.member_id), dataset.as_of)) == claim


def test_totals_that_disagree_with_the_lines_give_no_record(paid) -> None:  # type: ignore[no-untyped-def]
    claim, member, today = paid
    tampered = claim.model_copy(update={"billed": claim.billed + 1})
    with pytest.raises(ParseError, match="total billed"):
        CascadeAdapter.parse_document("eob", eob_pdf(tampered, member, today))


def test_an_unknown_status_word_or_a_non_pdf_gives_no_record(paid, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    claim, member, today = paid
    from sandbox.cascade import vocabulary
    monkeypatch.setitem(vocabulary.CLAIM_STATUS, claim.status_category, "PAID IN FULL")
    with pytest.raises(UnmappedValue):
        CascadeAdapter.parse_document("eob", eob_pdf(claim, member, today))
    with pytest.raises(ParseError, match="not a PDF"):
        CascadeAdapter.parse_document("eob", b"<html>Session expired</html>")
