"""Property-based tests of the vault file parser (vault/format.py) and of opening a vault file:
any bytes give a VaultDoc / an open vault or one clean VaultError, never a traceback; a file changed
in any way never opens silently with different contents.

Bounded and deterministic (derandomize): the same examples every run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aggregator.errors import VaultError
from vault import MasterKey, Vault
from vault.format import VaultDoc, parse

from .budget import fuzz_settings
from .json_tree import element_paths, replace_each

FUZZ = fuzz_settings(250)
PATH = Path("vault.json")

_FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-vault-"))
KEY = MasterKey.generate()
_GOOD = Vault.create(_FOLDER / "vault.json", KEY)
_GOOD.add_account(carrier="ridgeline", label="frontdesk", username="drsmith", password="Pa55word-For-Ridgeline",
                  totp_secret="JBSWY3DPEHPK3PXPJBSWY3DP")
_GOOD.add_account(carrier="bluepeak", label="billing", username="billing1", password="An0ther-Secret-Here")
GOOD_BYTES = (_FOLDER / "vault.json").read_bytes()
GOOD = json.loads(GOOD_BYTES)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


PATHS = element_paths(GOOD)[1:]


def parsed_or_vault_error(raw: bytes) -> VaultDoc | None:
    try:
        return parse(raw, PATH)
    except VaultError as error:
        assert error.reason and "\n" not in error.reason
        return None


HEADER = b'{"format": "aggregator-vault", "version": 1, '
# What random bytes almost never reach: nesting past the interpreter's limit, numbers too long to convert.
EXTREME = st.one_of(
    st.integers(10, 60_000).map(lambda n: HEADER + b'"records": ' + b"[" * n + b"]" * n + b"}"),
    st.integers(10, 60_000).map(lambda n: HEADER + b'"kdf": ' + b'{"a":' * n + b"1" + b"}" * n + b"}"),
    st.integers(4_000, 20_000).map(lambda n: HEADER + b'"kdf": {"name": "scrypt", "n": ' + b"9" * n + b"}}"),
)


@FUZZ
@given(st.one_of(st.binary(max_size=600), EXTREME))
def test_any_bytes_parse_or_give_one_vault_error(raw: bytes):
    parsed_or_vault_error(raw)


@FUZZ
@given(st.binary(min_size=1, max_size=8), st.integers(0, len(GOOD_BYTES) - 1), st.sampled_from(["flip", "cut", "insert"]))
def test_a_damaged_vault_file_never_opens_silently(patch: bytes, at: int, how: str):
    if how == "flip":
        raw = GOOD_BYTES[:at] + patch + GOOD_BYTES[at + len(patch):]
    elif how == "cut":
        raw = GOOD_BYTES[:at]
    else:
        raw = GOOD_BYTES[:at] + patch + GOOD_BYTES[at:]
    _open_or_vault_error(raw)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=3))
def test_vault_json_with_elements_replaced_by_any_json(changes: list[tuple[tuple[Any, ...], Any]]):
    document = replace_each(json.loads(GOOD_BYTES), changes)
    parsed_or_vault_error(json.dumps(document).encode())
    _open_or_vault_error(json.dumps(document).encode())


def _open_or_vault_error(raw: bytes) -> None:
    """Opening the changed file either fails with a VaultError or shows exactly the original accounts."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-vault-"))
    (folder / "vault.json").write_bytes(raw)
    try:
        opened = Vault.open(folder / "vault.json", KEY)
        accounts = {(a.carrier, a.label, a.username.get_secret_value()) for a in opened.accounts()}
    except VaultError as error:
        assert error.reason and "\n" not in error.reason
        return
    assert accounts == {("ridgeline", "frontdesk", "drsmith"), ("bluepeak", "billing", "billing1")}
