"""Property-based tests of the money/date/quantity readers every adapter uses
(aggregator/scrapers/framework/html.py and reading.py): any text gives a value or a ParseError,
never another exception, and money round-trips through the ways portals print it.

Bounded and deterministic (derandomize): the same examples every run, a few seconds in all.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from aggregator.errors import ParseError
from aggregator.scrapers.framework.html import parse_date, parse_money, parse_percent
from aggregator.scrapers.framework.reading import CenturyWindow, parse_quantity, parse_short_date

from .budget import fuzz_settings

FUZZ = fuzz_settings(400)

# Text that looks like what portals print, mixed with everything Unicode has (digits of other scripts,
# superscripts, invisible and control characters, signs).
PORTALISH = st.text(alphabet=st.sampled_from(list("0123456789$,.-()% /:\u2212\u00a0\u200b\u00b2\u0663\uff11 aAZ\t\n\x00")),
                    max_size=24)
# Shaped like a date or an amount, with digits of every kind: where a reader's own structure checks pass
# and its conversion has to cope (str.isdigit() is true for "²", which int() refuses).
DIGITISH = st.sampled_from(list("0123456789\u00b2\u00b3\u00b9\u0663\u06f5\u0967\uff11\u2460\u2070"))
SHAPED = st.one_of(
    st.lists(st.text(alphabet=DIGITISH, min_size=1, max_size=4), min_size=1, max_size=4).map("/".join),
    st.lists(st.text(alphabet=DIGITISH, min_size=1, max_size=4), min_size=1, max_size=4).map("-".join),
    st.tuples(st.sampled_from(["", "$", "-$", "($"]), st.text(alphabet=DIGITISH, min_size=1, max_size=7),
              st.sampled_from(["", ".00", ".5", ")", "%", ".", ".１２"])).map("".join),
)
ANY_TEXT = st.one_of(PORTALISH, SHAPED, st.text(max_size=24))


def value_or_parse_error(reader, text):  # type: ignore[no-untyped-def]
    try:
        return reader(text)
    except ParseError:
        return None


@FUZZ
@given(ANY_TEXT)
def test_parse_money_gives_an_amount_or_a_parse_error(text: str):
    amount = value_or_parse_error(lambda t: parse_money(t, field="copay"), text)
    assert amount is None or (isinstance(amount, Decimal) and amount == amount.quantize(Decimal("0.01")))


@FUZZ
@given(st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_money_round_trips_in_every_way_portals_print_it(amount: Decimal):
    size = abs(amount)
    printed = [f"${size:,.2f}", f"${size:.2f}", f"{size:,.2f}", f" $ {size:,.2f}\u00a0"]
    if amount < 0:
        printed = [f"-${size:,.2f}", f"$-{size:,.2f}", f"(${size:,.2f})", f"({size:,.2f})", f"\u2212${size:,.2f}"]
    for text in printed:
        assert parse_money(text, field="paid") == amount, text


@FUZZ
@given(ANY_TEXT)
def test_parse_percent_gives_a_share_or_a_parse_error(text: str):
    share = value_or_parse_error(lambda t: parse_percent(t, field="coinsurance"), text)
    assert share is None or Decimal(0) <= share <= Decimal(1)


@FUZZ
@given(ANY_TEXT, st.sampled_from([("%m/%d/%Y",), ("%Y-%m-%d", "%m/%d/%Y"), ("%b %d, %Y",), ("%d-%b-%Y",)]))
def test_parse_date_gives_a_date_or_a_parse_error(text: str, formats: tuple[str, ...]):
    found = value_or_parse_error(lambda t: parse_date(t, field="effective", formats=formats), text)
    assert found is None or isinstance(found, date)


@FUZZ
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_dates_round_trip(day: date):
    assert parse_date(day.strftime("%m/%d/%Y"), field="dob") == day
    assert parse_date(f" {day:%Y-%m-%d} ", field="dob", formats=("%Y-%m-%d",)) == day


@FUZZ
@given(ANY_TEXT)
def test_parse_quantity_gives_a_number_or_a_parse_error(text: str):
    quantity = value_or_parse_error(lambda t: parse_quantity(t, field="visits"), text)
    assert quantity is None or quantity >= 0


@FUZZ
@given(ANY_TEXT, st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)), st.integers(0, 20))
def test_parse_short_date_gives_a_date_in_the_window_or_a_parse_error(text: str, reference: date, ahead: int):
    window = CenturyWindow(reference=reference, years_ahead=ahead)
    found = value_or_parse_error(lambda t: parse_short_date(t, field="service date", window=window), text)
    assert found is None or reference.year + ahead - 99 <= found.year <= reference.year + ahead


@FUZZ
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2040, 12, 31)), st.integers(0, 20))
def test_short_dates_round_trip_inside_their_window(day: date, ahead: int):
    window = CenturyWindow(reference=day, years_ahead=ahead)
    assert parse_short_date(day.strftime("%m/%d/%y"), field="dob", window=window) == day
