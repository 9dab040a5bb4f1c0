"""Importing the practice's appointment list: a CSV export or a FHIR R4 Bundle -> `Appointment`s -> store.

The contract (docs/appointments.md has the user's version):
- Readers stream: `read_csv(path, mapping)` and `read_fhir_bundle(path)` yield one `Appointment` per
  good row and one `RowProblem` per bad field (a row with any problem yields no appointment). A file
  the reader cannot use at all (no header, missing required columns, not UTF-8, not a Bundle) raises
  `AppointmentFileError` before or instead of yielding anything usable.
- Row numbers are what a spreadsheet shows (header = row 1, blank rows counted, a quoted multi-line
  cell is one row). For FHIR the row is the 0-based index of the Appointment's `Bundle.entry[N]`,
  and `RowProblem.resource` names the resource at fault (`Coverage/c12`).
- An appointment id seen twice in one file: the first occurrence is imported, every later one is a
  problem "duplicate of row N" and is not imported.
- `import_appointments` writes the good rows in chunks inside one transaction, so memory does not grow
  with the file (only a map of the ids seen so far, for the duplicate rule) and a file-level error
  half-way through leaves the store as it was. Re-importing a file changes nothing; a known id whose
  fields changed updates its row (`aggregator.store.appointments`).
- Problem reasons never repeat a patient's name, date of birth or member id.
"""

from __future__ import annotations

import csv
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aggregator.errors import ConfigurationError
from aggregator.identifiers import npi_valid
from aggregator.jsonlimits import TooDeeplyNested, loads_bounded
from aggregator.models.appointments import Appointment, RowProblem
from aggregator.models.authorization import PROCEDURE_CODE
from aggregator.models.codes import ServiceType
from aggregator.models.ids import normalize_member_id
from aggregator.overnight.appointments_fhir import BundleIndex, ShapeError, appointment_values

if TYPE_CHECKING:
    from aggregator.store import Repository

Format = Literal["csv", "fhir"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "appointment_id", "appointment_start", "patient_last_name", "patient_first_name", "patient_dob", "carrier",
    "member_id",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("provider_npi", "procedure_codes", "service_type")
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_LENGTH = {"appointment_id": 80, "patient_last_name": 80, "patient_first_name": 80, "member_id": 80}
NAME_COLUMNS = frozenset({"patient_last_name", "patient_first_name"})
# Fields whose values are the patient's: a problem reason never quotes them.
PATIENT_FIELDS = frozenset({"patient_last_name", "patient_first_name", "patient_dob", "member_id"})
FHIR_MAX_DEPTH = 64  # a real Bundle nests about ten levels; deeper is malformed (aggregator.jsonlimits)


@dataclass
class ImportReport:
    source: str
    format: Format
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rows_with_problems(self) -> int:
        return len({p.row for p in self.problems})


class AppointmentFileError(ConfigurationError):
    """The file (or the mapping file) cannot be imported at all; nothing was written."""


class _Invalid(ValueError):
    """One field's value breaks a rule; the message is the problem's reason."""


# --- field rules ----------------------------------------------------------------------------------
# Each takes the cell text (stripped, never None) and returns the normalized value or raises _Invalid.

_US_DATE_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?")
_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_start(text: str, timezone: tzinfo | None = None) -> datetime:
    """ISO date-time or MM/DD/YYYY HH:MM[:SS] [AM|PM] -> naive practice-local wall time.

    A time with an offset is converted to `timezone` when one is given; without one its own wall time
    is kept (practice systems write their local offset), except UTC, which no schedule shows.
    """
    if match := _US_DATE_TIME.fullmatch(text):
        month, day, year, hour, minute, second, meridiem = match.groups()
        hour_value = int(hour)
        if meridiem:
            if not 1 <= hour_value <= 12:
                raise _Invalid(f"'{text}': the hour must be 1-12 with AM/PM")
            hour_value = hour_value % 12 + (12 if meridiem.upper() == "PM" else 0)
        try:
            return datetime(int(year), int(month), int(day), hour_value, int(minute), int(second or 0))
        except ValueError:
            raise _Invalid(f"'{text}' is not a real date and time") from None
    if not _ISO_DATE_TIME.fullmatch(text):
        raise _Invalid(f"'{text}' is not a date and time (use YYYY-MM-DDTHH:MM or MM/DD/YYYY HH:MM)")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(f"'{text}' is not a real date and time") from None
    if value.tzinfo is None:
        return value
    if timezone is not None:
        return value.astimezone(timezone).replace(tzinfo=None)
    if not value.utcoffset():
        raise _Invalid("the time is in UTC: give the practice's time zone (--timezone) to convert it")
    return value.replace(tzinfo=None)


def parse_dob(text: str, starts_at: datetime | None) -> date:
    """YYYY-MM-DD or MM/DD/YYYY; not before 1900 and not after the appointment. Never quotes the value."""
    try:
        if match := _US_DATE.fullmatch(text):
            month, day, year = (int(g) for g in match.groups())
            value = date(year, month, day)
        elif _ISO_DATE.fullmatch(text):
            value = date.fromisoformat(text)
        else:
            raise _Invalid("not a date (use YYYY-MM-DD or MM/DD/YYYY)")
    except ValueError:
        raise _Invalid("not a real calendar date") from None
    if value.year < 1900:
        raise _Invalid("before 1900")
    if starts_at is not None and value > starts_at.date():
        raise _Invalid("after the appointment date")
    return value


@lru_cache(maxsize=256)
def parse_carrier(text: str) -> str:
    """A payer's slug or display name -> the slug (cached: a file names few payers, many times)."""
    from aggregator.scrapers.routing import resolve_payer

    try:
        return resolve_payer(text)
    except ConfigurationError as error:
        raise _Invalid(error.reason) from None


def parse_member_id(text: str) -> str:
    try:
        return normalize_member_id(text)
    except ValueError as error:  # its messages never contain the value
        raise _Invalid(str(error)) from None


def parse_npi(text: str) -> str:
    npi = re.sub(r"[\s\-]", "", text)
    if not npi.isdigit() or len(npi) != 10:
        raise _Invalid(f"'{text}' is not an NPI (10 digits)")
    if not npi_valid(npi):
        raise _Invalid(f"'{text}' fails the NPI check digit")
    return npi


def parse_procedure_codes(text: str) -> tuple[str, ...]:
    """';'-separated CPT (5 digits, or 4 digits + a letter for category II/III) or HCPCS (letter + 4 digits)."""
    codes: list[str] = []
    for piece in text.split(";"):
        code = piece.strip().upper()
        if not code:
            continue
        if not PROCEDURE_CODE.fullmatch(code):
            hint = " (separate codes with ';')" if "," in code or " " in code else ""
            raise _Invalid(f"'{piece.strip()}' is not a CPT or HCPCS code{hint}")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def parse_service_type(text: str) -> ServiceType:
    try:
        return ServiceType(text.upper())
    except ValueError:
        raise _Invalid(f"'{text}' is not an X12 service type code this product knows") from None


# Characters that do not show but change what is shown or matched: C0/C1 controls (NUL, tab, newline...),
# the bidirectional overrides, embeddings and isolates that can make a name read backwards (and hide a
# formula or a different name in a list), and the zero-width space and byte-order mark.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u200b\u2060\ufeff")


def hidden_character(text: str) -> str | None:
    """The first control, bidi or invisible character in `text`, described (never the text itself)."""
    for char in text:
        if char in _BIDI_CONTROLS or char in _INVISIBLE or unicodedata.category(char) in ("Cc", "Cs"):
            name = unicodedata.name(char, "CONTROL CHARACTER")
            kind = "a bidirectional control" if char in _BIDI_CONTROLS else "an invisible or control character"
            return f"{kind} (U+{ord(char):04X} {name})"
    return None


def parse_text(text: str, column: str) -> str:
    if column in NAME_COLUMNS:
        text = " ".join(text.split())  # a line break or tab typed into a name cell (Alt+Enter) is a space
    if len(text) > MAX_LENGTH[column]:
        raise _Invalid(f"longer than {MAX_LENGTH[column]} characters")
    if found := hidden_character(text):
        raise _Invalid(f"contains {found}: retype it without it")
    return text


def validate_row(values: Mapping[str, str], row: int, *, timezone: tzinfo | None = None,
                 resources: Mapping[str, str] | None = None) -> Appointment | list[RowProblem]:
    """Apply every rule to one row's cells (by our column names); every bad field is reported."""
    problems: list[RowProblem] = []
    parsed: dict[str, object] = {}

    def check(column: str, rule: Callable[[str], object]) -> None:
        text = (values.get(column) or "").strip()
        if not text:
            if column in REQUIRED_COLUMNS:
                problems.append(RowProblem(row, column, "required, but empty", (resources or {}).get(column)))
            return
        try:
            parsed[column] = rule(text)
        except _Invalid as error:
            problems.append(RowProblem(row, column, str(error), (resources or {}).get(column)))

    check("appointment_id", lambda t: parse_text(t, "appointment_id"))
    check("appointment_start", lambda t: parse_start(t, timezone))
    check("patient_last_name", lambda t: parse_text(t, "patient_last_name"))
    check("patient_first_name", lambda t: parse_text(t, "patient_first_name"))
    check("patient_dob", lambda t: parse_dob(t, _datetime_or_none(parsed.get("appointment_start"))))
    check("carrier", parse_carrier)
    check("member_id", lambda t: parse_text(parse_member_id(t), "member_id"))
    check("provider_npi", parse_npi)
    check("procedure_codes", parse_procedure_codes)
    check("service_type", parse_service_type)
    if problems:
        return problems
    return Appointment(
        id=parsed["appointment_id"], starts_at=parsed["appointment_start"],
        patient_last_name=parsed["patient_last_name"], patient_first_name=parsed["patient_first_name"],
        patient_dob=parsed["patient_dob"], carrier=parsed["carrier"], member_id=parsed["member_id"],
        provider_npi=parsed.get("provider_npi"), procedure_codes=parsed.get("procedure_codes", ()),
        service_type=parsed.get("service_type"),
    )


def _datetime_or_none(value: object) -> datetime | None:
    """The start parsed from the same row, or None when it was missing or invalid."""
    return value if isinstance(value, datetime) else None


class _FirstSeen:
    """Appointment id -> the row it was first seen on: the one thing an import keeps per row."""

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}

    def earlier_row(self, appointment_id: str, row: int) -> int | None:
        first = self._rows.setdefault(appointment_id, row)
        return first if first != row else None


# --- column names and the mapping file ---------------------------------------------------------------

def column_key(name: str) -> str:
    """Header cells match case-, space-, '_'- and '-'-insensitively: 'Patient DOB' == 'patient_dob'."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


_OUR_KEYS = {column_key(c): c for c in COLUMNS}


def load_mapping(path: Path) -> dict[str, str]:
    """A JSON or TOML file {"their column": "our column"} -> {column_key(theirs): ours}."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise AppointmentFileError(f"cannot read the mapping file {path.name}: {type(error).__name__}") from None
    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else loads_bounded(text, max_depth=4)
    except (ValueError, tomllib.TOMLDecodeError, RecursionError) as error:  # tomllib recurses into nested arrays
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        detail = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise AppointmentFileError(f"the mapping file {path.name} is not valid {kind}: {detail}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise AppointmentFileError(f"the mapping file {path.name} must be an object of "
                                   '"their column": "our column" strings')
    return mapping_from(raw, origin=path.name)


def mapping_from(raw: Mapping[str, str], *, origin: str = "mapping") -> dict[str, str]:
    mapping: dict[str, str] = {}
    unknown = [target for target in raw.values() if column_key(target) not in _OUR_KEYS]
    if unknown:
        raise AppointmentFileError(f"{origin} maps to unknown column(s): {', '.join(unknown)} "
                                   f"(known: {', '.join(COLUMNS)})")
    for theirs, ours in raw.items():
        mapping[column_key(theirs)] = _OUR_KEYS[column_key(ours)]
    return mapping


def resolve_header(header: list[str], mapping: Mapping[str, str] | None) -> dict[str, int]:
    """Our column -> its index in the file; file-level errors name what is missing and what was found."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = column_key(cell)
        target = (mapping or {}).get(key) or _OUR_KEYS.get(key)
        if target is None:
            continue  # practice exports carry many columns we do not need
        if target in positions:
            raise AppointmentFileError(f"columns '{header[positions[target]].strip()}' and '{cell.strip()}' "
                                       f"both give {target}")
        positions[target] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        found = ", ".join(c.strip() for c in header if c.strip()) or "none"
        raise AppointmentFileError(f"missing required column(s): {', '.join(missing)}; columns found: {found}")
    return positions


# --- CSV --------------------------------------------------------------------------------------------

def read_csv(path: Path, mapping: Mapping[str, str] | Path | None = None, *,
             timezone: tzinfo | None = None) -> Iterator[Appointment | RowProblem]:
    """Stream a CSV (comma- or tab-separated, UTF-8 with or without BOM, any line endings).

    `mapping`: a mapping file's path, or {"their column": "our column"} (raw or from `load_mapping`).
    """
    if isinstance(mapping, Path):
        mapping = load_mapping(mapping)
    elif mapping:
        mapping = mapping_from(mapping)  # idempotent: normalized keys and canonical targets stay as they are
    seen = _FirstSeen()
    row = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
            while first and not first.strip():  # blank rows above the header still count as rows
                row += 1
                first = handle.readline()
            if not first:
                raise AppointmentFileError(f"{path.name} is empty: expected a header row with the column names")
            delimiter = "\t" if "\t" in first and "," not in first else ","
            reader = csv.reader(chain([first], handle), delimiter=delimiter)
            header = next(reader)
            row += 1
            positions = resolve_header(header, mapping)
            width = len(header)
            for cells in reader:
                row += 1
                if not any(cell.strip() for cell in cells):
                    continue  # blank rows and rows of empty cells (spreadsheet exports end with some)
                if any(cell.strip() for cell in cells[width:]):
                    yield RowProblem(row, "row", f"{len(cells)} cells, but the header has {width} columns")
                    continue
                values = {column: cells[index] if index < len(cells) else "" for column, index in positions.items()}
                yield from _checked(validate_row(values, row, timezone=timezone), row, seen, "row")
    except UnicodeDecodeError:
        raise AppointmentFileError(f"{path.name} is not UTF-8 text (after row {row}): "
                                   "export it as 'CSV UTF-8'") from None
    except csv.Error as error:
        raise AppointmentFileError(f"{path.name} row {row + 1} cannot be read as CSV: {error}") from None


def _checked(result: Appointment | list[RowProblem], row: int, seen: _FirstSeen, noun: str,
             resource: str | None = None) -> Iterator[Appointment | RowProblem]:
    if isinstance(result, list):
        yield from result
        return
    earlier = seen.earlier_row(result.id, row)
    if earlier is None:
        yield result
    else:
        where = f"entry[{earlier}]" if noun == "entry" else f"row {earlier}"
        yield RowProblem(row, "appointment_id", f"duplicate of {where}", resource)


# --- FHIR R4 Bundle ---------------------------------------------------------------------------------

def read_fhir_bundle(path: Path, *, timezone: tzinfo | None = None) -> Iterator[Appointment | RowProblem]:
    """Appointments of a FHIR R4 Bundle, with their Patient and Coverage (and Practitioner for the NPI).

    The bundle is parsed whole (resources refer to each other in any order); appointments are then
    produced one at a time. Rules in docs/appointments.md.
    """
    try:
        bundle = loads_bounded(Path(path).read_text(encoding="utf-8-sig"), max_depth=FHIR_MAX_DEPTH)
    except UnicodeDecodeError:
        raise AppointmentFileError(f"{path.name} is not UTF-8 text") from None
    except TooDeeplyNested as error:
        raise AppointmentFileError(f"{path.name} is not a FHIR Bundle: its JSON is {error}") from None
    except ValueError as error:
        raise AppointmentFileError(f"{path.name} is not valid JSON: {error}") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise AppointmentFileError(f"{path.name} is not a FHIR Bundle (resourceType must be 'Bundle')")
    entries = bundle.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise AppointmentFileError(f"{path.name}: {ShapeError('Bundle.entry', 'a list of entries', entries).reason}")
    index = BundleIndex(entries or [])
    yield from index.problems  # entries that are not an entry at all: named, never silently skipped
    seen = _FirstSeen()
    for position, resource in index.appointments():
        values, resources, problems = appointment_values(index, position, resource)
        if problems:
            yield from problems
            continue
        yield from _checked(validate_row(values, position, timezone=timezone, resources=resources), position, seen,
                            "entry", resources.get("appointment_id"))


# --- import -----------------------------------------------------------------------------------------

def detect_format(path: Path) -> Format:
    """By extension (.json -> FHIR, .csv/.txt/.tsv -> CSV), otherwise by the first character."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "fhir"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    try:
        with open(path, "rb") as handle:
            start = handle.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError as error:
        raise AppointmentFileError(f"cannot read {path.name}: {type(error).__name__}") from None
    return "fhir" if start.startswith(b"{") else "csv"


def import_appointments(repository: Repository, path: Path, *, mapping: Mapping[str, str] | Path | None = None,
                        format: Format | None = None, timezone: tzinfo | None = None) -> ImportReport:
    """Validate every row, write the good ones (one transaction, in chunks), report the bad ones."""
    from aggregator.store.appointments import upsert_appointments

    path = Path(path)
    if not path.is_file():
        raise AppointmentFileError(f"no such file: {path}")
    kind = format or detect_format(path)
    if kind == "csv":
        items = read_csv(path, mapping, timezone=timezone)
    elif kind == "fhir":
        if mapping:
            raise AppointmentFileError("a column mapping applies to CSV files only")
        items = read_fhir_bundle(path, timezone=timezone)
    else:
        raise AppointmentFileError(f"unknown format '{kind}' (csv or fhir)")
    report = ImportReport(source=path.name, format=kind)

    def good_rows() -> Iterator[Appointment]:
        for item in items:
            if isinstance(item, RowProblem):
                report.problems.append(item)
            else:
                yield item

    report.added, report.updated, report.unchanged = upsert_appointments(repository, good_rows(), source=path.name)
    return report
