"""Discovery of the sandbox carriers: a carrier is its folder sandbox/<slug>/, found without any list.

The malformed-folder cases build throwaway packages under tmp_path; nothing is added to the repo.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
import textwrap
from pathlib import Path

import pytest

import sandbox
from sandbox.carriers import (
    MFA_KINDS,
    CarrierFolderError,
    HubProfile,
    carrier_slugs,
    discover,
    discover_hubs,
    hub_payers,
    hub_serving,
    hubs,
    next_port_offset,
    payer_source,
    portal_factory,
    profile,
    profiles,
)
from sandbox.ridgeline.profile import PROFILE as RIDGELINE
from sandbox.server import ports_from, start_sandbox

SANDBOX_ROOT = Path(sandbox.__file__).parent


def test_discovery_finds_exactly_the_carrier_folders_present():
    folders = {p.parent.name for p in SANDBOX_ROOT.glob("*/profile.py") if (p.parent / "__init__.py").exists()}
    assert set(profiles()) == folders and len(folders) >= 3
    for slug, found in profiles().items():
        assert found.slug == slug and profile(slug) is found
        assert callable(portal_factory(slug))
    offsets = [p.port_offset for p in profiles().values()]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets), "stable order: ascending port_offset"
    assert carrier_slugs() == tuple(profiles())
    # Hubs take port offsets too (a hub and its identity provider): a new carrier's is past them all.
    assert next_port_offset() == max([*offsets, *(o for h in hubs().values() for o in h.offsets)]) + 1


def test_ports_are_base_plus_each_carriers_own_offset():
    ports = ports_from(8101)
    assert ports == {slug: 8101 + p.port_offset for slug, p in profiles().items()} | {
        slug: 8101 + h.port_offset for slug, h in hubs().items()}
    assert ports_from(8101, carrier_slugs()) == {slug: 8101 + p.port_offset for slug, p in profiles().items()}
    assert set(ports_from(0).values()) == {0}, "base 0: the OS picks free ports, not 1, 2, ..."
    # The documented ports of the first three carriers never move, whatever carriers are added later.
    assert {s: ports[s] for s in ("ridgeline", "bluepeak", "cascade")} == {
        "ridgeline": 8101, "bluepeak": 8102, "cascade": 8103}


def test_unknown_carrier_is_a_clear_error():
    with pytest.raises(KeyError, match="no sandbox carrier 'no-such-carrier'.*known: ridgeline"):
        profile("no-such-carrier")
    with pytest.raises(ValueError, match="no sandbox portal for: no-such-carrier"):
        start_sandbox(carriers=("no-such-carrier",))


def test_mfa_kind_is_checked_against_what_the_sandbox_supports():
    assert dataclasses.replace(RIDGELINE, mfa="security_questions").mfa in MFA_KINDS
    with pytest.raises(ValueError, match="unknown MFA kind 'sms'.*totp, security_questions"):
        dataclasses.replace(RIDGELINE, mfa="sms")


def test_profile_rejects_a_bad_slug_a_negative_port_offset_and_no_plans():
    with pytest.raises(ValueError, match="lowercase"):
        dataclasses.replace(RIDGELINE, slug="Acme")
    with pytest.raises(ValueError, match="port_offset"):
        dataclasses.replace(RIDGELINE, port_offset=-1)
    with pytest.raises(ValueError, match="at least one plan"):
        dataclasses.replace(RIDGELINE, plans=())


# --- throwaway packages -------------------------------------------------------------------------------

_APP = "def create_app(dataset, state=None):\n    return None\n"
_INIT = "from {pkg}.{slug}.profile import PROFILE\n" + _APP
_PROFILE = """\
    import dataclasses
    from sandbox.ridgeline.profile import PROFILE as _BASE
    PROFILE = dataclasses.replace(_BASE, slug={slug!r}, port_offset={offset})
    """


@pytest.fixture
def package(tmp_path, monkeypatch, request):
    """A fresh importable package; `add(slug, ...)` writes a carrier folder into it."""
    name = f"sbfake_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, root
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def _add(root: Path, slug: str, *, offset: int = 0, init: str | None = None, profile_slug: str | None = None,
         with_profile: bool = True) -> None:
    folder = root / slug
    folder.mkdir()
    (folder / "__init__.py").write_text(init if init is not None else _INIT.format(pkg=root.name, slug=slug))
    if with_profile:
        text = textwrap.dedent(_PROFILE).format(slug=profile_slug or slug, offset=offset)
        (folder / "profile.py").write_text(text)


def test_a_well_formed_package_is_found_in_port_order_and_shared_code_is_skipped(package):
    name, root = package
    _add(root, "zeta", offset=0)
    _add(root, "alpha", offset=1)
    _add(root, "shared", with_profile=False, init="")  # no profile.py: shared code, not a carrier
    found = discover(name)
    assert list(found) == ["zeta", "alpha"]
    assert found["alpha"].profile.port_offset == 1 and callable(found["alpha"].create_app)


def test_missing_profile_export_is_a_clear_error(package):
    name, root = package
    _add(root, "acme", init=_APP)  # profile.py exists, __init__.py does not export PROFILE
    with pytest.raises(CarrierFolderError, match=rf"{name}/acme: .*does not export PROFILE"):
        discover(name)


def test_missing_create_app_is_a_clear_error(package):
    name, root = package
    _add(root, "acme", init=f"from {name}.acme.profile import PROFILE\n")
    with pytest.raises(CarrierFolderError, match=r"acme: __init__.py must export create_app"):
        discover(name)


def test_duplicate_port_offset_is_a_clear_error(package):
    name, root = package
    _add(root, "acme", offset=1)
    _add(root, "bolt", offset=1)
    with pytest.raises(CarrierFolderError, match=r"'acme' and 'bolt' both declare port_offset 1.*next free: 2"):
        discover(name)


def test_slug_must_be_the_folder_name(package):
    name, root = package
    _add(root, "acme", profile_slug="acme2")
    with pytest.raises(CarrierFolderError, match=r"PROFILE.slug is 'acme2'; it must be the folder's name, 'acme'"):
        discover(name)


def test_profile_of_the_wrong_type_is_a_clear_error(package):
    name, root = package
    _add(root, "acme", init=f"PROFILE = 'acme'\n{_APP}")
    with pytest.raises(CarrierFolderError, match="PROFILE must be a sandbox.carriers.CarrierProfile, not str"):
        discover(name)


def test_adding_a_carrier_moves_no_other_carriers_port(package):
    name, root = package
    _add(root, "first", offset=0)
    _add(root, "second", offset=1)
    before = {s: c.profile.port_offset for s, c in discover(name).items()}
    _add(root, "aardvark", offset=2)  # sorts first by name, but takes the next offset
    importlib.invalidate_caches()  # the import system caches directory listings by mtime
    after = {s: c.profile.port_offset for s, c in discover(name).items()}
    assert {s: after[s] for s in before} == before and list(after) == ["first", "second", "aardvark"]


def test_a_profile_without_its_own_numbering_gets_the_generic_format(dataset):
    from sandbox.activity import DEFAULT_ACTIVITY_FORMAT
    from sandbox.dataset import _generate_carrier

    acme = dataclasses.replace(RIDGELINE, slug="acme", member_id_prefix="AC", activity=DEFAULT_ACTIVITY_FORMAT)
    data = _generate_carrier(dataset.seed, dataset.as_of, acme, dataset.provider)
    assert data.authorizations and data.claims
    assert all(re.fullmatch(r"PA\d{10}", n) for n in data.authorizations)
    assert all(re.fullmatch(r"\d{13}", n) for n in data.claims)
    # Its own streams: another slug, other members; the real ridgeline is untouched.
    assert set(data.members).isdisjoint(dataset.carrier("ridgeline").members)


# --- hubs ----------------------------------------------------------------------------------------------

_HUB_SERVER = """\
    from sandbox.carriers import HubProfile
    HUB = HubProfile(slug={slug!r}, display_name="Hub", port_offset={offset}, idp_port_offset={offset} + 1,
                     payers=("p1", "p2"), payer_names={{"p1": "Payer One", "p2": "Payer Two"}},
                     start=None, accounts=None, data=None)
    """


def _add_hub(root: Path, folder: str, *, slug: str | None = None, offset: int = 10, server: str | None = None) -> None:
    (root / folder).mkdir()
    (root / folder / "__init__.py").write_text("")
    text = server if server is not None else textwrap.dedent(_HUB_SERVER).format(slug=slug or folder, offset=offset)
    (root / folder / "server.py").write_text(text)


def test_a_hub_folder_is_found_by_its_server_module_and_is_not_a_carrier(package):
    name, root = package
    _add(root, "acme", offset=0)
    _add_hub(root, "switchboard")
    _add_hub(root, "tools", server="def serve():\n    pass\n")  # a server module without HUB: shared code
    assert list(discover(name)) == ["acme"]
    found = discover_hubs(name)
    assert list(found) == ["switchboard"] and found["switchboard"].offsets == (10, 11)


def test_a_hub_whose_slug_is_not_its_folder_or_of_the_wrong_type_is_a_clear_error(package):
    name, root = package
    _add_hub(root, "switchboard", slug="other")
    with pytest.raises(CarrierFolderError, match="HUB.slug is 'other'; it must be the folder's name, 'switchboard'"):
        discover_hubs(name)
    _add_hub(root, "bad", server="HUB = 'bad'\n")
    importlib.invalidate_caches()
    with pytest.raises(CarrierFolderError, match="server.HUB must be a sandbox.carriers.HubProfile, not str"):
        discover_hubs(name)


def test_the_crossway_hub_is_discovered_with_its_payers_ports_and_data(dataset):
    assert set(hubs()) == {"crossway"} and "crossway" not in profiles()
    crossway = hubs()["crossway"]
    assert isinstance(crossway, HubProfile) and crossway.offsets == (4, 5)
    offsets = [p.port_offset for p in profiles().values()]
    assert not set(crossway.offsets) & set(offsets), "a hub's ports never collide with a carrier's"
    # Payers only the hub serves, and the one it shares with a carrier portal (its own portal's data).
    assert set(hub_payers()) == set(crossway.payers) - set(profiles()) and len(hub_payers()) == 2
    for payer in crossway.payers:
        source = payer_source(dataset, payer)
        if payer in profiles():
            assert source is dataset and hub_serving(payer) is None
        else:
            assert hub_serving(payer) is crossway and source.carrier(payer).members
            assert source.carrier(payer).profile.display_name == crossway.payer_names[payer]
    with pytest.raises(KeyError, match="no sandbox carrier or hub payer 'nobody'"):
        payer_source(dataset, "nobody")
