"""Cascade EOB PDFs parse to exactly the ground truth claim; a PDF that contradicts itself gives no record."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from aggregator.errors import AggregatorError, ParseError, UnmappedValue
from aggregator.models import ClaimStatus
from aggregator.scrapers.cascade import CascadeAdapter
from aggregator.scrapers.cascade.eob import parse_eob
from sandbox import ground_truth
from sandbox.cascade.eob import eob_pdf
from sandbox.dataset import generate_dataset

EOBS = sorted((Path(__file__).parents[2] / "recorded_pages" / "cascade" / "eob").glob("*.pdf"))


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


@pytest.mark.parametrize("pdf", EOBS, ids=[p.stem for p in EOBS])
def test_a_damaged_or_cut_pdf_gives_no_record(pdf: Path) -> None:
    """A byte changed inside the compressed page, or the file cut short, is refused: pypdf would otherwise
    recover a page from a damaged stream, with one digit turned into another."""
    data = pdf.read_bytes()
    start = data.index(b"stream", data.index(b"/FlateDecode")) + len(b"stream\n")
    end = data.index(b"endstream", start)
    for offset in (start + 5, (start + end) // 2, end - 8):
        damaged = data[:offset] + bytes([data[offset] ^ 0x5A]) + data[offset + 1:]
        with pytest.raises(ParseError):
            CascadeAdapter.parse_document("eob", damaged)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        with pytest.raises(ParseError):
            CascadeAdapter.parse_document("eob", data[:cut])


def test_random_damage_never_raises_anything_but_an_aggregator_error() -> None:
    # The parser itself, not through the framework's checked path (which would convert a straggler).
    rng = random.Random(11)
    for pdf in EOBS:
        data = bytearray(pdf.read_bytes())
        for _ in range(40):
            damaged = bytearray(data)
            for _ in range(rng.randrange(1, 5)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            try:
                parse_eob(bytes(damaged), "cascade")
            except AggregatorError:
                pass


def _edited(data: bytes, old: bytes, new: bytes) -> bytes:
    """The recorded PDF with one text run of its page content replaced, written again by pypdf."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        content = page.get_contents()
        text = content.get_data()
        assert old in text
        content.set_data(text.replace(old, new, 1))
        page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("pdf", EOBS, ids=[p.stem for p in EOBS])
def test_a_recorded_eob_edited_to_contradict_itself_gives_no_record(pdf: Path) -> None:
    data = pdf.read_bytes()
    expected = CascadeAdapter.parse_document("eob", data)
    assert CascadeAdapter.parse_document("eob", _edited(data, b"(Status Code: ", b"(Status Code: ")) == expected
    other = "585" if expected.status_code != "585" else "65"
    contradictions = [
        (f"(Status Code: {expected.status_code})".encode(), f"(Status Code: {other})".encode()),
        (b"(Questions? ", b"(Call us? "),  # the closing line every EOB ends with
        (b"(Total Billed: ", b"(Total Billed: 1"),
    ]
    for old, new in contradictions:
        with pytest.raises(ParseError):
            CascadeAdapter.parse_document("eob", _edited(data, old, new))
