"""The scrubber: one value -> one synthetic value everywhere, in every spelling, with its shape kept."""

from __future__ import annotations

import base64
import json
import re
from datetime import date

import pytest

from aggregator.recording.scrub import Scrubber, date_forms

SALT = b"a fixed key for the tests"


def _scrubber(**values: object) -> Scrubber:
    scrubber = Scrubber(salt=SALT)
    scrubber.add_values(values)
    return scrubber


def _replacement(scrubber: Scrubber, original: str) -> str:
    return next(r.replacement for r in scrubber.replacements() if r.original.casefold() == original.casefold())


def _shape(text: str) -> str:
    return re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", text)))


def test_the_same_value_gets_the_same_replacement_across_pages_and_in_json() -> None:
    scrubber = _scrubber(member_id="RDG12345678", last_name="Okafor", claim_number="2600112345678")
    pages = ["<td>RDG12345678</td><td>OKAFOR</td>", "<a href='/claims/2600112345678?m=RDG12345678'>Okafor</a>"]
    first, second = (scrubber.scrub_text(p) for p in pages)
    new_id, new_name = _replacement(scrubber, "RDG12345678"), _replacement(scrubber, "okafor")
    assert first == f"<td>{new_id}</td><td>{new_name.upper()}</td>"
    assert new_id in second and new_name.capitalize() in second
    assert scrubber.scrub_json({"member_id": "RDG12345678", "rows": [{"name": "Okafor"}]}) == {
        "member_id": new_id, "rows": [{"name": new_name.capitalize()}]}


def test_replacements_keep_the_shape_the_parser_reads() -> None:
    scrubber = _scrubber(member_id="XBP39132270802", auth_number="PA2612345678", first_name="Mary-Ann",
                         last_name="O'Brien", servicing_provider_npi="1234567893", group_number="G-00123")
    for replacement in scrubber.replacements():
        assert replacement.replacement != replacement.original
        assert len(replacement.replacement) == len(replacement.original)
        assert _shape(replacement.replacement).casefold() == _shape(replacement.original).casefold()
    # An id keeps its letters (a carrier's prefix) and changes its digits.
    assert _replacement(scrubber, "PA2612345678").startswith("PA")


def test_a_dependents_id_keeps_its_relation_to_the_subscribers() -> None:
    scrubber = _scrubber(member_id="XBP3913227080", subscriber_id="XBP391322708")
    assert _replacement(scrubber, "XBP3913227080") == _replacement(scrubber, "XBP391322708") + "0"
    # A dependent id the scrubber was not told of still loses the subscriber's part.
    assert "391322708" not in scrubber.scrub_text("XBP39132270899")


def test_ids_printed_with_separators_keep_them() -> None:
    scrubber = _scrubber(member_id="ABC123456789")
    new = _replacement(scrubber, "ABC123456789")
    assert scrubber.scrub_text("ABC-123 456-789") == f"{new[:3]}-{new[3:6]} {new[6:9]}-{new[9:]}"


def test_a_date_of_birth_is_replaced_in_every_format_with_one_synthetic_date() -> None:
    born = date(1980, 3, 4)
    scrubber = _scrubber(date_of_birth=born.isoformat())
    new = date.fromisoformat(_replacement(scrubber, born.isoformat()))
    assert new.year == born.year and new != born
    for old_form, new_form in zip(date_forms(born), date_forms(new), strict=True):
        assert scrubber.scrub_text(f"<td>{old_form}</td>") == f"<td>{new_form}</td>"
    assert scrubber.scrub_text("MAR 4, 1980") == date_forms(new)[11].upper()
    assert scrubber.scrub_text("?dob=03%2F04%2F1980") == "?dob=" + date_forms(new)[1].replace("/", "%2F")
    assert scrubber.scrub_text("13/04/1980 and 03/04/19801") == "13/04/1980 and 03/04/19801"  # other numbers


@pytest.mark.parametrize("day", [date(1975, 5, 5), date(2001, 12, 12), date(1990, 1, 1)])
def test_dates_whose_month_and_day_are_equal_get_a_replacement(day: date) -> None:
    new = date.fromisoformat(_replacement(_scrubber(date_of_birth=day.isoformat()), day.isoformat()))
    assert {new.month, new.day}.isdisjoint({day.month, day.day})


def test_encoded_spellings_are_replaced_by_the_same_encoding_of_the_replacement() -> None:
    scrubber = _scrubber(last_name="O'Brien", group_name="Acme & Sons")
    name, group = _replacement(scrubber, "o'brien"), _replacement(scrubber, "Acme & Sons")
    page = ("<b>O&#39;Brien</b> <i>O&#x27;BRIEN</i> ?q=O%27Brien {\"n\": \"O'Brien\"} Acme &amp; Sons "
            "Acme%20%26%20Sons")
    scrubbed = scrubber.scrub_text(page)
    assert "brien" not in scrubbed.casefold() and "acme" not in scrubbed.casefold()
    cased = name[0].upper() + name[1:2] + name[2].upper() + name[3:]  # the case of "O'Brien", letter by letter
    for spelling in (cased.replace("'", "&#39;"), cased.upper().replace("'", "&#x27;"), cased.replace("'", "%27"),
                     f'"{cased}"'):
        assert spelling in scrubbed
    assert group.replace("&", "&amp;") in scrubbed and group.replace(" ", "%20").replace("&", "%26") in scrubbed


def test_name_words_are_not_replaced_inside_other_words() -> None:
    scrubber = _scrubber(first_name="Ann", last_name="Lee-Park")
    assert scrubber.scrub_text("Annual deductible; Sleeper") == "Annual deductible; Sleeper"
    assert "Park" not in scrubber.scrub_text("Mrs Park, Ann")  # a hyphenated name's parts too


def test_base64_blobs_that_carry_a_value_are_decoded_scrubbed_and_reencoded() -> None:
    scrubber = _scrubber(member_id="CC5248204764", date_of_birth="1991-06-15")
    state = base64.b64encode(json.dumps({"member_id": "CC5248204764", "dob": "1991-06-15"}).encode()).decode()
    other = base64.b64encode(b'{"page": "search", "nothing": "to hide"}').decode()
    scrubbed = scrubber.scrub_text(f'<input name="__VIEWSTATE" value="{state}.sig"><i data-x="{other}">')
    found = re.search(r'value="([^".]+)', scrubbed)
    assert found is not None
    blob = found.group(1)
    decoded = json.loads(base64.b64decode(blob))
    assert decoded == {"member_id": _replacement(scrubber, "CC5248204764"), "dob": _replacement(scrubber, "1991-06-15")}
    assert other in scrubbed


def test_patterns_find_phones_addresses_npis_and_tax_ids() -> None:
    page = ("Call (555) 123-4567 or 1-800-555-0199. 123 Main St, Springfield, IL 62704. "
            "NPI: 1234567893, TIN 12-3456789. Billed $1,234.56 on 2026-11-27.")
    scrubber = Scrubber(salt=SALT)
    scrubber.discover(page)
    scrubbed = scrubber.scrub_text(page)
    for original in ("555) 123-4567", "800-555-0199", "123 Main St", "Springfield", "62704", "1234567893",
                     "12-3456789"):
        assert original not in scrubbed
    assert "$1,234.56 on 2026-11-27" in scrubbed  # amounts and other dates are not personal


def test_labelled_values_the_answer_does_not_carry_are_found() -> None:
    page = ("<table><tr><th>Member ID</th><th>First name</th><th>Relationship</th></tr>"
            "<tr><td>XBP614257570</td><td>Jacqueline</td><td>Subscriber</td></tr></table>"
            "<dl><dt>Date of birth</dt><dd>Mar 15, 2025</dd><dt>Subscriber</dt><dd>Self</dd></dl>"
            '<script>{"lastName": "Cajemu"}</script>')
    scrubber = Scrubber(salt=SALT)
    scrubber.discover_labelled(page)
    scrubbed = scrubber.scrub_text(page)
    for original in ("XBP614257570", "Jacqueline", "Mar 15, 2025", "Cajemu"):
        assert original not in scrubbed
    assert "Subscriber" in scrubbed and "Self" in scrubbed  # vocabulary, not a person's value


def test_replacements_depend_on_the_key_not_only_on_the_value() -> None:
    one, other = Scrubber(salt=b"one"), Scrubber(salt=b"two")
    for scrubber in (one, other):
        scrubber.add("id", "RDG12345678")
    assert one.replacements()[0].replacement != other.replacements()[0].replacement
    assert Scrubber().replacements() == []


def test_remaining_finds_an_original_left_in_a_page() -> None:
    scrubber = _scrubber(member_id="RDG12345678")
    assert scrubber.remaining(scrubber.scrub_text("RDG12345678")) == []
    assert scrubber.remaining("RDG12345678") == ["id"]
