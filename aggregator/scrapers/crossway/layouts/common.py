"""What every layout reads alike: one benefit line's value, written the hub's way."""

from __future__ import annotations

from typing import Any

from aggregator.errors import ParseError
from aggregator.models import BenefitKind, BenefitLine, QuantityQualifier
from aggregator.scrapers.framework import build, header_key, parse_percent
from aggregator.scrapers.framework.reading import parse_amount

from .. import maps
from ..pages import parse_visits


def benefit_line(fields: dict[str, Any], value: str) -> BenefitLine:
    """A benefit line from its key fields and the value cell: `$1,500.00`, `20%` (the patient's share),
    `20 visits`, or `—` for a non-covered line. A co-insurance that states the plan's share instead
    (`Plan pays 80%`) means the opposite under the same label: refused, never converted."""
    kind: BenefitKind = fields["kind"]
    what = f"{kind.label} line"
    fields = dict(fields)
    if header_key(value).startswith(header_key(maps.PLAN_SHARE_PREFIX)):
        raise ParseError(f"{what}: the page states the plan's share where the patient's share is expected")
    if kind is BenefitKind.NON_COVERED:
        if value != maps.NO_VALUE:
            raise ParseError("a non-covered line shows a value")
    elif kind is BenefitKind.COINSURANCE:
        fields["percent"] = parse_percent(value, field=what)
    elif kind is BenefitKind.LIMITATION:
        fields["quantity"] = parse_visits(value, field=what)
        fields["quantity_qualifier"] = QuantityQualifier.VISITS
    else:
        fields["amount"] = parse_amount(value, field=what)
    return build(BenefitLine, what, **fields)


def optional_word(text: str, vocabulary: Any) -> Any:
    """A column the hub leaves `—` where it does not apply (level, period)."""
    return None if text == maps.NO_VALUE else vocabulary(text)
