"""Reading appointment CSVs: every rule, every malformed-file shape, and row numbers as a spreadsheet shows them."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.models import ServiceType
from aggregator.overnight.appointments import (
    COLUMNS,
    Appointment,
    AppointmentFileError,
    RowProblem,
    load_mapping,
    mapping_from,
    npi_valid,
    read_csv,
)
from sandbox.identifiers import npi_valid as sandbox_npi_valid

HEADER = ",".join(COLUMNS)
NPI = "1234567893"  # the CMS example, valid with the 80840 prefix


def line(appointment_id: str = "A1", start: str = "2026-11-30T09:15", last: str = "Okafor", first: str = "Grace",
         dob: str = "1980-02-03", carrier: str = "ridgeline", member_id: str = "RM123456789", npi: str = NPI,
         codes: str = "99213", service_type: str = "98") -> str:
    return ",".join((appointment_id, start, last, first, dob, carrier, member_id, npi, codes, service_type))


def write(tmp_path: Path, text: str, name: str = "list.csv", *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def read(path: Path, **kwargs) -> tuple[list[Appointment], list[RowProblem]]:
    items = list(read_csv(path, **kwargs))
    return [i for i in items if isinstance(i, Appointment)], [i for i in items if isinstance(i, RowProblem)]


def fields(problems: list[RowProblem]) -> set[tuple[int, str]]:
    return {(p.row, p.field) for p in problems}


def test_a_good_row_is_normalized(tmp_path):
    path = write(tmp_path, HEADER + "\n" + line(member_id="rm-123 456 789", codes=" 99213; g0438;3074f;99213 ",
                                                carrier="Ridgeline Mutual", service_type="mh") + "\n")
    [appointment], problems = read(path)
    assert problems == []
    assert appointment == Appointment(
        id="A1", starts_at=datetime(2026, 11, 30, 9, 15), patient_last_name="Okafor", patient_first_name="Grace",
        patient_dob=date(1980, 2, 3), carrier="ridgeline", member_id="RM123456789", provider_npi=NPI,
        procedure_codes=("99213", "G0438", "3074F"), service_type=ServiceType.MENTAL_HEALTH)
    assert appointment.service_date == date(2026, 11, 30)


def test_optional_columns_may_be_absent_or_empty(tmp_path):
    header = ",".join(COLUMNS[:7])
    path = write(tmp_path, header + "\n" + ",".join(line().split(",")[:7]) + "\n")
    [appointment], problems = read(path)
    assert problems == [] and appointment.provider_npi is None and appointment.procedure_codes == ()
    assert appointment.service_type is None
    [empty], _ = read(write(tmp_path, HEADER + "\n" + line(npi="", codes="", service_type="") + "\n", "b.csv"))
    assert (empty.provider_npi, empty.procedure_codes, empty.service_type) == (None, (), None)


def test_header_names_match_case_and_space_insensitively(tmp_path):
    header = "Appointment ID,APPOINTMENT START, patient last name ,Patient-First-Name,PatientDOB,Carrier,Member ID," \
             "Provider NPI,Procedure Codes,Service Type,Room"
    path = write(tmp_path, header + "\n" + line() + ",12B\n")
    [appointment], problems = read(path)
    assert problems == [] and appointment.id == "A1" and appointment.patient_first_name == "Grace"


def test_us_dates_and_times(tmp_path):
    rows = [line("A1", "11/30/2026 14:05", dob="02/03/1980"), line("A2", "1/5/2026 9:05 am", dob="2/3/1980"),
            line("A3", "11/30/2026 12:30 PM"), line("A4", "11/30/2026 12:10 AM"), line("A5", "2026-11-30 16:45:30")]
    appointments, problems = read(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert problems == []
    assert [a.starts_at for a in appointments] == [
        datetime(2026, 11, 30, 14, 5), datetime(2026, 1, 5, 9, 5), datetime(2026, 11, 30, 12, 30),
        datetime(2026, 11, 30, 0, 10), datetime(2026, 11, 30, 16, 45, 30)]
    assert appointments[0].patient_dob == appointments[1].patient_dob == date(1980, 2, 3)


def test_missing_columns_are_a_file_error_naming_missing_and_found(tmp_path):
    path = write(tmp_path, "Appointment ID,Start,Last Name,patient_first_name,patient_dob,carrier\nA1,x,y,z,w,v\n")
    with pytest.raises(AppointmentFileError) as error:
        read(path)
    assert error.value.reason == ("missing required column(s): appointment_start, patient_last_name, member_id; "
                                  "columns found: Appointment ID, Start, Last Name, patient_first_name, patient_dob, carrier")


def test_an_empty_file_is_a_file_error(tmp_path):
    for text in ("", "\n\n  \n"):
        with pytest.raises(AppointmentFileError, match="empty"):
            read(write(tmp_path, text))


def test_a_header_only_file_has_nothing_and_no_problem(tmp_path):
    assert read(write(tmp_path, HEADER + "\n")) == ([], [])


def test_bad_dates_are_named_and_dobs_are_never_quoted(tmp_path):
    rows = [
        line("A1", start="2026-02-30T10:00"),  # row 2: no such day
        line("A2", start="tomorrow"),  # row 3
        line("A3", start="2026-11-30"),  # row 4: a date without a time
        line("A4", start="13/01/2026 10:00"),  # row 5: day-first is not accepted
        line("A5", dob="1980-13-45"),  # row 6
        line("A6", dob="2027-01-01"),  # row 7: born after the visit
        line("A7", dob="03.02.1980"),  # row 8
        line("A8", dob="1880-01-01"),  # row 9
        line("A9"),  # row 10: good
    ]
    appointments, problems = read(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [a.id for a in appointments] == ["A9"]
    assert fields(problems) == {(2, "appointment_start"), (3, "appointment_start"), (4, "appointment_start"),
                                (5, "appointment_start"), (6, "patient_dob"), (7, "patient_dob"), (8, "patient_dob"),
                                (9, "patient_dob")}
    reasons = {p.row: p.reason for p in problems}
    assert reasons[2] == "'2026-02-30T10:00' is not a real date and time"
    assert reasons[7] == "after the appointment date"
    for problem in problems:
        assert "1980" not in problem.reason and "2027" not in problem.reason and "1880" not in problem.reason


def test_npi_check_digit(tmp_path):
    rows = [line("A1", npi="1234567890"), line("A2", npi="12345"), line("A3", npi="3234567893"),
            line("A4", npi="1999999984"), line("A5", npi="123-456-7893")]
    appointments, problems = read(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [(a.id, a.provider_npi) for a in appointments] == [("A4", "1999999984"), ("A5", "1234567893")]
    assert {(p.row, p.field, p.reason) for p in problems} == {
        (2, "provider_npi", "'1234567890' fails the NPI check digit"),
        (3, "provider_npi", "'12345' is not an NPI (10 digits)"),
        (4, "provider_npi", "'3234567893' fails the NPI check digit"),  # NPIs start with 1 or 2
    }


def test_npi_rule_agrees_with_the_sandbox_generator_on_random_numbers():
    rng = random.Random(6)
    numbers = ["".join(rng.choice("0123456789") for _ in range(10)) for _ in range(3000)]
    numbers += [n[:9] + d for n in numbers[:300] for d in "0123456789"]  # every check digit of 300 bases
    assert [npi_valid(n) for n in numbers] == [sandbox_npi_valid(n) for n in numbers]
    assert sum(npi_valid(n) for n in numbers) >= 300 * 0.1


def test_unknown_carrier_member_id_and_codes(tmp_path):
    rows = [line("A1", carrier="No Such Health Plan"), line("A2", member_id="RM 12*34"), line("A3", member_id="  "),
            line("A4", codes='"99213,97110"'), line("A5", codes="9921"), line("A6", service_type="ZZ"),
            line("A7", carrier="RIDGELINE")]
    appointments, problems = read(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [(a.id, a.carrier) for a in appointments] == [("A7", "ridgeline")]
    assert {(p.row, p.field, p.reason) for p in problems} == {
        (2, "carrier", "unknown carrier 'No Such Health Plan' (known: " + problems[0].reason.split("(known: ")[1]),
        (3, "member_id", "member id may contain only letters and digits"),
        (4, "member_id", "required, but empty"),
        (5, "procedure_codes", "'99213,97110' is not a CPT or HCPCS code (separate codes with ';')"),
        (6, "procedure_codes", "'9921' is not a CPT or HCPCS code"),
        (7, "service_type", "'ZZ' is not an X12 service type code this product knows"),
    }
    assert "ridgeline" in problems[0].reason  # the known carriers are listed


def test_every_bad_field_of_a_row_is_reported(tmp_path):
    path = write(tmp_path, HEADER + "\n" + line(start="soon", first="", dob="x", carrier="nope", npi="1") + "\n")
    appointments, problems = read(path)
    assert appointments == []
    assert fields(problems) == {(2, "appointment_start"), (2, "patient_first_name"), (2, "patient_dob"),
                                (2, "carrier"), (2, "provider_npi")}


def test_empty_lines_and_rows_of_empty_cells_are_skipped_but_counted(tmp_path):
    text = "\n" + HEADER + "\n" + line("A1") + "\n\n,,,,,,,,,\n" + line("A2", dob="bad") + "\n  \n" + line("A3") + "\n\n"
    appointments, problems = read(write(tmp_path, text))
    assert [a.id for a in appointments] == ["A1", "A3"]
    assert fields(problems) == {(6, "patient_dob")}  # blank row 1, header row 2, A1 row 3, blank 4, empty cells 5


def test_utf8_bom_and_windows_line_endings(tmp_path):
    text = HEADER + "\n" + line("A1", last="Muñoz") + "\n" + line("A2", dob="bad") + "\n" + line("A3") + "\n"
    path = write(tmp_path, "\ufeff" + text, newline="\r\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfappointment_id") and b"\r\n" in path.read_bytes()
    appointments, problems = read(path)
    assert [(a.id, a.patient_last_name) for a in appointments] == [("A1", "Muñoz"), ("A3", "Okafor")]
    assert fields(problems) == {(3, "patient_dob")}
    assert all("\r" not in a.id and "\r" not in (a.service_type or "") for a in appointments)


def test_quoted_cells_with_commas_and_line_breaks_are_one_row(tmp_path):
    text = HEADER + "\n" + line("A1", last='"Smith, Jr."') + "\n" + line("A2", first='"Mary\nAnn"', dob="x") + "\n" \
        + line("A3") + "\n"
    appointments, problems = read(write(tmp_path, text))
    assert [(a.id, a.patient_last_name) for a in appointments] == [("A1", "Smith, Jr."), ("A3", "Okafor")]
    assert fields(problems) == {(3, "patient_dob")}  # the two-line cell is still row 3, and A3 is row 4


def test_duplicate_ids_keep_the_first_and_name_it(tmp_path):
    rows = [line("A1"), line("A2"), line("A1", start="2026-11-30T10:00"), line("A3"), line("A2"), line("A1")]
    appointments, problems = read(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [(a.id, a.starts_at.hour) for a in appointments] == [("A1", 9), ("A2", 9), ("A3", 9)]
    assert [(p.row, p.field, p.reason) for p in problems] == [
        (4, "appointment_id", "duplicate of row 2"), (6, "appointment_id", "duplicate of row 3"),
        (7, "appointment_id", "duplicate of row 2")]


def test_a_bad_row_does_not_claim_its_id(tmp_path):
    """A row rejected for another reason is not 'first': a later good row with its id is imported."""
    appointments, problems = read(write(tmp_path, HEADER + "\n" + line("A1", dob="x") + "\n" + line("A1") + "\n"))
    assert [a.id for a in appointments] == ["A1"] and fields(problems) == {(2, "patient_dob")}


def test_extra_cells_are_a_row_problem(tmp_path):
    appointments, problems = read(write(tmp_path, HEADER + "\n" + line("A1") + ",oops\n" + line("A2") + ",,\n"))
    assert [a.id for a in appointments] == ["A2"]
    assert [(p.row, p.field, p.reason) for p in problems] == [(2, "row", "11 cells, but the header has 10 columns")]


def test_short_rows_miss_their_trailing_cells(tmp_path):
    appointments, problems = read(write(tmp_path, HEADER + "\nA1,2026-11-30T09:15,Okafor,Grace\n"))
    assert appointments == [] and fields(problems) == {(2, "patient_dob"), (2, "carrier"), (2, "member_id")}


def test_tab_separated(tmp_path):
    path = write(tmp_path, HEADER.replace(",", "\t") + "\n" + line().replace(",", "\t") + "\n", "list.txt")
    [appointment], problems = read(path)
    assert problems == [] and appointment.member_id == "RM123456789"


def test_not_utf8_is_a_file_error(tmp_path):
    path = write(tmp_path, HEADER + "\n" + line(last="Muñoz") + "\n", encoding="cp1252")
    with pytest.raises(AppointmentFileError, match="not UTF-8 text.*CSV UTF-8"):
        read(path)


def test_mapping_renames_a_practice_export(tmp_path):
    header = "Appt #,Appt Date/Time,Pt Last,Pt First,Pt DOB,Insurance,Subscriber No,Rendering NPI,CPT,STC"
    path = write(tmp_path, header + "\n" + line() + "\n")
    mapping_file = tmp_path / "map.json"
    mapping_file.write_text('{"Appt #": "appointment_id", "appt date/time": "Appointment Start", '
                            '"Pt Last": "patient_last_name", "Pt First": "patient_first_name", "Pt DOB": "patient_dob", '
                            '"Insurance": "carrier", "Subscriber No": "member_id", "Rendering NPI": "provider_npi", '
                            '"CPT": "procedure_codes", "STC": "service_type"}')
    [appointment], problems = read(path, mapping=load_mapping(mapping_file))
    assert problems == [] and appointment.id == "A1" and appointment.procedure_codes == ("99213",)
    toml_file = tmp_path / "map.toml"
    toml_file.write_text("\n".join(f'"{theirs}" = "{ours}"' for theirs, ours in
                                   zip(header.split(","), COLUMNS, strict=True)))
    assert read(path, mapping=load_mapping(toml_file)) == ([appointment], [])
    assert read(path, mapping=toml_file) == ([appointment], [])  # a path, or the raw dict, works as well
    assert read(path, mapping=dict(zip(header.split(","), COLUMNS, strict=True))) == ([appointment], [])


def test_mapping_errors(tmp_path):
    with pytest.raises(AppointmentFileError, match=r"maps to unknown column\(s\): member_number \(known: appointment_id"):
        mapping_from({"Subscriber No": "member_number"})
    bad = tmp_path / "map.json"
    bad.write_text('{"a": 1}')
    with pytest.raises(AppointmentFileError, match="must be an object"):
        load_mapping(bad)
    bad.write_text("{nope")
    with pytest.raises(AppointmentFileError, match="not valid JSON"):
        load_mapping(bad)
    path = write(tmp_path, HEADER + ",Member Number\n" + line() + ",X\n")
    with pytest.raises(AppointmentFileError, match="columns 'member_id' and 'Member Number' both give member_id"):
        read(path, mapping=mapping_from({"Member Number": "member_id"}))


def test_times_with_an_offset(tmp_path):
    rows = [line("A1", start="2026-11-30T09:15:00-05:00"), line("A2", start="2026-11-30T14:15:00Z"),
            line("A3", start="2026-11-30T14:15:00+00:00")]
    path = write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    appointments, problems = read(path)
    assert [(a.id, a.starts_at) for a in appointments] == [("A1", datetime(2026, 11, 30, 9, 15))]
    assert fields(problems) == {(3, "appointment_start"), (4, "appointment_start")}
    assert "time zone" in problems[0].reason
    converted, none = read(path, timezone=ZoneInfo("America/New_York"))
    assert none == [] and {a.starts_at for a in converted} == {datetime(2026, 11, 30, 9, 15)}


def test_values_longer_than_the_table_allows(tmp_path):
    appointments, problems = read(write(tmp_path, HEADER + "\n" + line("A" * 81, last="L" * 81) + "\n"))
    assert appointments == [] and fields(problems) == {(2, "appointment_id"), (2, "patient_last_name")}
