"""Where a page shows a person's values that nobody told the scrubber: patterns and labels.

`pattern_values`: phone numbers, street addresses, "City, ST 12345", NPIs after an "NPI" label, tax ids.
`labelled_values`: values a page labels as a person's name, id or date of birth -- by table column header,
in label / value pairs (dt/dd, th/td, a "Label:" cell and the next one), and under such keys in embedded
JSON. A family list shows the subscriber's first name although the answer does not carry it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

Kind = Literal["name", "phrase", "id", "digits", "date"]

_PHONE = re.compile(r"(?<![\d-])(?:\+?1[-.\s])?(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?![\d-])")
_STREET = re.compile(
    r"(?<![\w-])\d{1,6}(?:\s+[A-Z][A-Za-z'.-]*){1,4}\s+(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr"
    r"|Lane|Ln|Way|Court|Ct|Place|Pl|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Trl)\b\.?"
    r"(?:,?\s+(?:Apt|Suite|Ste|Unit|#)\.?\s*[\w-]+)?")
_CITY_STATE_ZIP = re.compile(r"\b[A-Z][A-Za-z.'-]*(?: [A-Z][A-Za-z.'-]*){0,2},\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")
_LABELLED_NPI = re.compile(r"NPI\W{0,24}?(\d{10})(?!\d)")
_TAX_ID = re.compile(r"(?<![\d-])\d{2}-\d{7}(?![\d-])")


def pattern_values(text: str) -> list[tuple[Kind, str]]:
    found: list[tuple[Kind, str]] = [("digits", m.group(0)) for m in _PHONE.finditer(text)]
    found += [("phrase", m.group(0)) for pattern in (_STREET, _CITY_STATE_ZIP) for m in pattern.finditer(text)]
    found += [("id", m.group(1)) for m in _LABELLED_NPI.finditer(text)]
    found += [("id", m.group(0)) for m in _TAX_ID.finditer(text)]
    return found


def labelled_values(text: str) -> list[tuple[Kind, Any]]:
    """(kind, value) for each labelled value: a date for a date, else the text."""
    found: list[tuple[Kind, Any]] = []
    for label, value in _labelled_texts(text):
        kind = _LABELS[label]
        day = _as_date(value)
        if kind == "date" or day is not None:
            if day is not None:
                found.append(("date", day))
        elif any(c.isdigit() for c in value):
            if kind == "id" or value.replace("-", "").replace(" ", "").isalnum():
                found.append(("id", value))
        elif kind == "name":
            found.append(("name", value))
    return found


# Labels of a person's values on a page (lower case, no colon) -> what the value is. Bare role words
# ("Subscriber", "Patient") are not labels here: they head sections and are a relationship's vocabulary.
_LABELS: dict[str, Kind] = {
    **dict.fromkeys(("first name", "last name", "middle name", "given name", "family name", "surname",
                     "member name", "patient name", "subscriber name", "insured name", "dependent name",
                     "firstname", "lastname",
                     "middlename", "membername", "patientname", "subscribername", "first_name", "last_name"), "name"),
    **dict.fromkeys(("member id", "subscriber id", "patient id", "insured id", "id", "member #", "member number",
                     "memberid", "subscriberid", "member_id", "subscriber_id"), "id"),
    **dict.fromkeys(("dob", "date of birth", "birth date", "birthdate", "dateofbirth", "date_of_birth"), "date"),
}
_JSON_PAIR = re.compile(r'"([A-Za-z_]{2,20})"\s*:\s*"([^"\\]{2,60})"')
# Four-digit years only: a two-digit year's century is a guess (the answer's date of birth covers 06/06/63).
_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%Y/%m/%d")


def _label_of(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split()).rstrip(":").strip().casefold()


def _labelled_texts(text: str) -> list[tuple[str, str]]:
    import lxml.html
    from lxml import etree

    found = [(key.casefold(), value) for key, value in _JSON_PAIR.findall(text) if key.casefold() in _LABELS]
    try:
        doc = lxml.html.fromstring(text)
    except (etree.ParserError, ValueError):
        return found
    for table in doc.iter("table"):
        rows = [r for r in table.iter("tr")]
        if not rows:
            continue
        header = [_label_of(_text(c)) for c in rows[0] if isinstance(c.tag, str)]
        columns = {i: h for i, h in enumerate(header) if h in _LABELS}
        for row in rows[1:]:
            cells = [c for c in row if isinstance(c.tag, str)]
            found += [(h, " ".join(_text(cells[i]).split())) for i, h in columns.items() if i < len(cells)]
    for element in doc.iter():
        if not isinstance(element.tag, str) or len(element) > 2:
            continue
        label = _label_of(_text(element))
        value = element.getnext()
        if label in _LABELS and value is not None and isinstance(value.tag, str):
            found.append((label, " ".join(_text(value).split())))
    # A value that is itself a label ("Relationship:", a form's next field) is not a value.
    return [(label, value) for label, value in found if value and len(value) <= 60 and not value.endswith(":")
            and _label_of(value) not in _LABELS]


def _text(element: Any) -> str:
    return "".join(element.itertext())


def _as_date(text: str) -> date | None:
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    return None
