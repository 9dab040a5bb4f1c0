"""Issue 12 item 7: deeply nested or wrongly typed FHIR bundles and vault files end in one clear line
(which entry, which field, why), never a traceback; a file that is not usable at all exits 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.cli.vault import vault_app
from aggregator.overnight.appointments import read_fhir_bundle
from vault import MasterKey, Vault

from .test_appointments_fhir import appointment, coverage, patient


def bundle_file(tmp_path: Path, document: Any, name: str = "day.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def entries(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def import_(tmp_path: Path, path: Path):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["appointments", "import", str(path), "--data-dir", str(tmp_path / "data")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


DEEP = 100_000


@pytest.mark.parametrize("document", [
    '{"resourceType": "Bundle", "entry": [' + "[" * DEEP + "]" * DEEP + "]}",
    '{"resourceType": "Bundle", "entry": [{"resource": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}]}",
], ids=["beyond-the-interpreter", "beyond-the-limit"])
def test_a_deeply_nested_bundle_is_one_line_and_exit_2(tmp_path: Path, document: str):
    result = import_(tmp_path, bundle_file(tmp_path, document))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "nested deeper than" in lines[0] and "nothing imported" in lines[0]


@pytest.mark.parametrize("entry", ["abc", 7, {"resource": {}}, True])
def test_an_entry_that_is_not_a_list_is_exit_2(tmp_path: Path, entry: Any):
    result = import_(tmp_path, bundle_file(tmp_path, {"resourceType": "Bundle", "entry": entry}))
    assert result.exit_code == 2
    assert "Bundle.entry must be a list of entries" in " ".join(result.output.split())


def wrong(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(resource))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


CASES = [  # (which resource is broken, how, the field named, the resource named)
    ("appointment", ("participant",), {"actor": {"reference": "Patient/p1"}}, "Appointment.participant", "Appointment/a1"),
    ("appointment", ("participant", 0, "actor"), "Patient/p1", "Appointment.participant[0].actor", "Appointment/a1"),
    ("appointment", ("participant", 0, "actor", "reference"), ["Patient/p1"],
     "Appointment.participant[0].actor.reference", "Appointment/a1"),
    ("appointment", ("start",), 20261130, "Appointment.start", "Appointment/a1"),
    ("appointment", ("serviceType", 0, "coding"), "62", "Appointment.serviceType[0].coding", "Appointment/a1"),
    ("appointment", ("identifier",), {"value": "X"}, "Appointment.identifier", "Appointment/a1"),
    ("patient", ("name",), "Okafor, Grace", "Patient.name", "Patient/p1"),
    ("patient", ("name", 1, "given"), "Grace", "Patient.name[1].given", "Patient/p1"),
    ("patient", ("birthDate",), {"year": 1980}, "Patient.birthDate", "Patient/p1"),
    ("coverage", ("identifier",), "RM123456789", "Coverage.identifier", "Coverage/c1"),
    ("coverage", ("payor",), {"display": "Ridgeline Mutual"}, "Coverage.payor", "Coverage/c1"),
]


@pytest.mark.parametrize("which, path, value, field, resource", CASES, ids=[c[3] for c in CASES])
def test_a_wrongly_typed_element_is_a_named_problem_not_a_crash(tmp_path, which, path, value, field, resource):
    parts = {"appointment": appointment("a1", "p1"), "patient": patient("p1"), "coverage": coverage("c1", "p1")}
    parts[which] = wrong(parts[which], path, value)
    document = entries(parts["patient"], parts["coverage"], parts["appointment"])
    items = list(read_fhir_bundle(bundle_file(tmp_path, document)))
    assert len(items) == 1 and items[0].row == 2 and items[0].field == field, items
    assert items[0].resource == resource and items[0].reason.startswith(f"{field} must be ")
    result = import_(tmp_path, bundle_file(tmp_path, document))
    assert result.exit_code == 1 and "0 added" in result.output


@pytest.mark.parametrize("broken, field", [
    ("just a string", "entry[1]"), ({"resource": "Patient/p1"}, "entry[1].resource"),
    ({"resource": {"id": "x"}}, "entry[1].resource.resourceType"),
], ids=["string", "resource-string", "no-type"])
def test_a_broken_entry_is_named_by_its_position(tmp_path, broken, field):
    document = entries(patient("p1"), coverage("c1", "p1"), appointment("a1", "p1"))
    document["entry"].insert(1, broken)
    items = list(read_fhir_bundle(bundle_file(tmp_path, document)))
    problems = [i for i in items if not hasattr(i, "member_id")]
    assert [(p.row, p.field) for p in problems] == [(1, field)]
    assert len(items) == 2  # the good appointment is still imported


def test_a_coverage_with_a_textual_order_is_named_not_sorted_into_a_crash(tmp_path):
    document = entries(patient("p1"), coverage("c1", "p1", order="1"), coverage("c2", "p1", order=2),
                       appointment("a1", "p1"))
    problems = [i for i in read_fhir_bundle(bundle_file(tmp_path, document)) if not hasattr(i, "member_id")]
    assert [(p.row, p.field, p.resource) for p in problems] == [(1, "Coverage.order", "Coverage/c1")]


def test_a_deeply_nested_vault_file_is_one_error_line(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    MasterKey.generate().write_key_file(data / "vault.key")
    Vault.create(data / "vault.json", MasterKey.from_key_file(data / "vault.key"))
    (data / "vault.json").write_text('{"format": "aggregator-vault", "version": 1, "records": '
                                     + "[" * DEEP + "]" * DEEP + "}")
    result = CliRunner().invoke(vault_app, ["list", "--data-dir", str(data)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1
    assert lines[0].startswith("error: vault file") and "corrupted" in lines[0] and "nested deeper" in lines[0]


@pytest.mark.parametrize("name, text", [
    ("columns.json", "{\"a\": " + "[" * DEEP + "]" * DEEP + "}"),
    ("columns.toml", "a = " + "[" * DEEP + "]" * DEEP),
], ids=["json", "toml"])
def test_a_deeply_nested_mapping_file_is_exit_2(tmp_path: Path, name: str, text: str):
    mapping = tmp_path / name
    mapping.write_text(text)
    listing = bundle_file(tmp_path, "appointment_id\n", name="day.csv")
    result = CliRunner().invoke(app, ["appointments", "import", str(listing), "--mapping", str(mapping),
                                      "--data-dir", str(tmp_path / "data")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2 and "mapping file" in result.output and "Traceback" not in result.output


def test_a_deeply_nested_accounts_file_and_stdin_are_one_error_line(tmp_path: Path):
    data = tmp_path / "data"
    accounts = tmp_path / "accounts.json"
    accounts.write_text('{"accounts": ' + "[" * DEEP + "]" * DEEP + "}")
    runner = CliRunner()
    assert runner.invoke(vault_app, ["init", "--data-dir", str(data)]).exit_code == 0
    for result in (runner.invoke(vault_app, ["import", str(accounts), "--data-dir", str(data)]),
                   runner.invoke(vault_app, ["add", "--carrier", "ridgeline", "--label", "x", "--stdin",
                                             "--data-dir", str(data)], input="{" + '"a": {' * DEEP)):
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error:"), result.output


def test_a_vault_record_whose_wrapped_key_was_cut_is_reported_not_a_crash(tmp_path: Path):
    """Found by tests/fuzz/test_fuzz_vault.py: a wrapped key too short to hold a nonce raised ValueError."""
    import base64

    from aggregator.errors import VaultError

    key = MasterKey.generate()
    vault = Vault.create(tmp_path / "vault.json", key)
    account = vault.add_account(carrier="ridgeline", label="main", username="u1", password="a-long-password")
    document = json.loads((tmp_path / "vault.json").read_text())
    document["records"][account.account_id]["wrapped_key"] = base64.b64encode(b"abc").decode()
    (tmp_path / "vault.json").write_text(json.dumps(document))
    with pytest.raises(VaultError, match="failed its integrity check"):
        Vault.open(tmp_path / "vault.json", key).accounts()
