"""Which Chromium the pool launches: the setting as given, else the headless shell when headless, else the
browser, a distribution's launcher script resolved to the binary it starts (its extra flags cost CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator import browser
from aggregator.browser import find_chromium, real_binary
from aggregator.settings import Settings

LAUNCHER = "#!/bin/sh\n. /etc/chromium.d/default-flags\nexec /usr/lib/chromium/chromium $CHROMIUM_FLAGS \"$@\"\n"


def executable(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(0o755)
    return path


@pytest.fixture
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Debian-like layout: /usr/bin launcher scripts, the binaries under /usr/lib/chromium/."""
    usr = tmp_path / "usr"
    executable(usr / "bin" / "chromium", LAUNCHER.encode())
    executable(usr / "lib" / "chromium" / "chromium", b"\x7fELF browser")
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM_CANDIDATES", (str(usr / "bin" / "chromium"),))
    monkeypatch.setattr(browser, "SYSTEM_HEADLESS_SHELL_CANDIDATES",
                        (str(usr / "lib" / "chromium" / "chromium-headless-shell"),
                         str(usr / "bin" / "chromium-headless-shell")))
    return usr


def test_a_launcher_script_resolves_to_the_binary_it_starts(system: Path) -> None:
    assert real_binary(system / "bin" / "chromium") == system / "lib" / "chromium" / "chromium"


def test_a_binary_and_a_script_without_a_known_binary_are_launched_as_they_are(system: Path) -> None:
    binary = system / "lib" / "chromium" / "chromium"
    assert real_binary(binary) == binary
    other = executable(system / "bin" / "google-chrome", b"#!/bin/sh\nexec /opt/google/chrome/chrome \"$@\"\n")
    assert real_binary(other) == other


def test_headless_prefers_the_headless_shell_and_headed_the_browser(system: Path) -> None:
    assert find_chromium(Settings(), None) == str(system / "lib" / "chromium" / "chromium")
    shell = executable(system / "lib" / "chromium" / "chromium-headless-shell", b"\x7fELF shell")
    executable(system / "bin" / "chromium-headless-shell", b"#!/bin/sh -e\n\n" + str(shell).encode() + b" \"$@\"\n")
    assert find_chromium(Settings(), None) == str(shell)
    assert find_chromium(Settings(browser_headless=False), None) == str(system / "lib" / "chromium" / "chromium")


def test_the_setting_is_taken_as_it_is_and_playwrights_download_comes_before_the_system(system: Path) -> None:
    launcher = system / "bin" / "chromium"
    assert find_chromium(Settings(browser_executable=launcher), None) == str(launcher)
    downloaded = executable(system / "playwright" / "chrome", b"\x7fELF")
    assert find_chromium(Settings(), str(downloaded)) is None


def test_retry_after_in_seconds_or_as_a_date_bounded_to_a_day():
    from datetime import UTC, datetime

    from aggregator.browser import MAX_RETRY_AFTER_SECONDS, retry_after_seconds

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("60", now) == 60 and retry_after_seconds(" 0 ", now) == 0
    assert retry_after_seconds("Mon, 30 Nov 2026 12:02:00 GMT", now) == 120
    assert retry_after_seconds("Mon, 30 Nov 2026 11:00:00 GMT", now) == 0  # a date already past: no wait
    assert retry_after_seconds("99999999999", now) == MAX_RETRY_AFTER_SECONDS == 24 * 3600
    assert retry_after_seconds("Wed, 21 Oct 2099 07:28:00 GMT", now) == MAX_RETRY_AFTER_SECONDS
    for unreadable in (None, "", "-5", "1e3", "soon", "Mon, 99 Foo 2026"):
        assert retry_after_seconds(unreadable, now) is None, unreadable


def test_a_wait_learnt_apart_from_the_screen_is_added_once_and_never_replaces_the_pages_own():
    from aggregator.errors import RateLimited

    screen_only = RateLimited("the portal asks to slow down").asked_to_wait(60.0)
    assert screen_only.retry_after_seconds == 60 and str(screen_only).endswith("it asks us to wait 60 s")
    page_said = RateLimited("HTTP 429; it asks us to wait 30 s", retry_after_seconds=30.0).asked_to_wait(60.0)
    assert page_said.retry_after_seconds == 30 and page_said.reason == "HTTP 429; it asks us to wait 30 s"
    unsaid = RateLimited("the portal asks to slow down").asked_to_wait(None)
    assert unsaid.retry_after_seconds is None and unsaid.reason == "the portal asks to slow down"
