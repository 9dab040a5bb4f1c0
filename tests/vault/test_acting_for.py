"""Whom a hub account acts for: the organization (Tax ID) and provider (NPI) its pickers choose, sealed with
the account's secrets, checked when given, cleared with "", and set from `aggregator vault add/update`."""

from __future__ import annotations

import pytest

from tests.vault.conftest import PASSWORD, SEED
from tests.vault.test_cli import Cli
from vault import MasterKey, Vault
from vault.errors import InvalidAccount

NPI = "1234567893"  # a valid check digit (CMS's worked example)


def test_tax_id_and_npi_are_kept_normalized_and_cleared(vault: Vault, vault_path, key: MasterKey) -> None:
    account = vault.add_account(carrier="crossway", label="frontdesk", username="u", password=PASSWORD,
                                tax_id="123456789", npi=NPI)
    assert (account.tax_id, account.npi) == ("12-3456789", NPI)
    again = Vault.open(vault_path, key).get(account.account_id)  # read back from the file, decrypted
    assert (again.tax_id, again.npi) == ("12-3456789", NPI)
    assert "12-3456789" not in vault_path.read_text()  # sealed with the secrets, not in clear metadata
    cleared = vault.update_account(account.account_id, tax_id="", npi="")
    assert (cleared.tax_id, cleared.npi) == (None, None)
    plain = vault.add_account(carrier="ridgeline", label="main", username="v", password=PASSWORD)
    assert (plain.tax_id, plain.npi) == (None, None)


@pytest.mark.parametrize(("field", "value"), [("tax_id", "12-345678"), ("tax_id", "ab-cdefghi"),
                                              ("npi", "1234567890"), ("npi", "123456789")])
def test_a_bad_tax_id_or_npi_is_refused_naming_the_field(vault: Vault, field: str, value: str) -> None:
    with pytest.raises(InvalidAccount) as raised:
        vault.add_account(carrier="crossway", label="x", username="u", password=PASSWORD, **{field: value})
    assert field in str(raised.value) and value not in str(raised.value)


def test_the_cli_sets_and_lists_whom_an_account_acts_for(tmp_path) -> None:
    cli = Cli(tmp_path / "data")
    cli("init")
    cli("add", "--carrier", "crossway", "--label", "frontdesk", "--stdin", "--tax-id", "12-3456789",
        "--npi", NPI, input=f"user\n{PASSWORD}\n{SEED}\n")
    assert "12-3456789 / NPI " + NPI in cli("list").output
    cli("update", "--carrier", "crossway", "--label", "frontdesk", "--npi", "")
    stored = cli.vault().find("crossway", "frontdesk")
    assert stored is not None and (stored.tax_id, stored.npi) == ("12-3456789", None)
    bad = cli("update", "--carrier", "crossway", "--label", "frontdesk", "--npi", "1111111111", ok=False)
    assert bad.exit_code == 1 and "npi" in bad.output
