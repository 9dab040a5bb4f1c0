"""Redaction: by key, by member-data key, and by registered value anywhere (messages, nesting, tracebacks)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date

import pytest

from aggregator.logging import (
    REDACTED,
    SecretRegistry,
    configure_logging,
    forget_secrets,
    get_logger,
    redact,
    register_secret,
)

PASSWORD = "Tr0ub4dor&3-ridgeline"
COOKIE = "eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbg.abc123"


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_aggregator_handler", False)]:
        root.removeHandler(handler)


@pytest.fixture(params=["json", "console"])
def capture(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Configure logging into a buffer; calling the fixture returns what was written so far."""
    stream = io.StringIO()
    configure_logging(request.param, "DEBUG", stream=stream)
    return stream.getvalue


def test_registered_secret_under_a_sneaky_key_is_redacted(capture: Callable[[], str]) -> None:
    register_secret(PASSWORD)
    get_logger("test").info("note_saved", note=f"the practice says the password is {PASSWORD}, ok?")
    out = capture()
    assert PASSWORD not in out and REDACTED in out and "note_saved" in out


def test_registered_secret_in_the_message_and_nested_values(capture: Callable[[], str]) -> None:
    register_secret(PASSWORD)
    register_secret(COOKIE)
    get_logger("test").warning(f"login with {PASSWORD} failed",
                               detail={"attempts": [{"sent": f"pw={PASSWORD}"}, ("x", COOKIE)]})
    out = capture()
    assert PASSWORD not in out and COOKIE not in out


def test_exception_tracebacks_are_scrubbed(capture: Callable[[], str]) -> None:
    register_secret(PASSWORD)
    try:
        raise RuntimeError(f"portal rejected password {PASSWORD}")
    except RuntimeError:
        get_logger("test").exception("login_crashed")
    out = capture()
    assert "Traceback" in out and "RuntimeError" in out
    assert PASSWORD not in out


def test_stdlib_library_logs_are_scrubbed_too(capture: Callable[[], str]) -> None:
    register_secret(COOKIE)
    library = logging.getLogger("playwright.fake")
    library.info("set cookie %s for portal", COOKIE)
    try:
        raise ValueError(COOKIE)
    except ValueError:
        library.error("request failed", exc_info=True)
    out = capture()
    assert "set cookie" in out and "ValueError" in out
    assert COOKIE not in out


def test_secret_keys_are_redacted_whatever_their_value(capture: Callable[[], str]) -> None:
    get_logger("test").info(
        "filled_form", password="never-registered-pw", user_password="p2-value", totp_secret="JBSWY3DP",
        code="492039", reason_code="credentials_rejected", cookies=[{"name": "sid", "value": "abc"}],
        storage_state={"cookies": [], "origins": []}, headers={"Authorization": "Bearer tok-value"},
        csrfToken="csrf-value", security_answers={"pet": "rex-value"}, sessionId="sess-value",
    )
    out = capture()
    for leaked in ("never-registered-pw", "p2-value", "JBSWY3DP", "492039", "abc", "tok-value", "csrf-value",
                   "rex-value", "sess-value"):
        assert leaked not in out
    assert "credentials_rejected" in out  # a code that is not a TOTP code stays readable


def test_member_data_is_masked(capture: Callable[[], str]) -> None:
    get_logger("test").info("lookup", member_id="RM12345678", first_name="Jane", last_name="Roe",
                            dob="1980-02-03", patient={"name": "Jane Roe", "date_of_birth": date(1980, 2, 3)},
                            carrier="ridgeline")
    out = capture()
    assert "RM******78" in out and "J***" in out and "R***" in out and "****-**-**" in out
    for leaked in ("RM12345678", "Jane", "Roe", "1980"):
        assert leaked not in out
    assert "ridgeline" in out


def test_json_lines_stay_valid_json() -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    register_secret(PASSWORD)
    get_logger("test").info("x", note=PASSWORD, member_id="RM12345678")
    event = json.loads(stream.getvalue().strip())
    assert event["note"] == REDACTED and event["member_id"] == "RM******78"
    assert event["level"] == "info" and event["logger"] == "test" and "timestamp" in event


def test_configure_is_idempotent_and_level_applies() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    configure_logging("json", "WARNING", stream=stream)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_aggregator_handler", False)]
    assert len(ours) == 1
    get_logger("test").info("quiet")
    get_logger("test").warning("loud")
    assert stream.getvalue().count("\n") == 1 and "loud" in stream.getvalue()
    with pytest.raises(ValueError):
        configure_logging("xml")


def test_redact_helper_copies_and_masks() -> None:
    register_secret(PASSWORD)
    original = {"msg": f"pw {PASSWORD}", "items": [PASSWORD, 3, None], "pair": ("a", PASSWORD),
                "subscriber_id": 987654321, "token": None}
    cleaned = redact(original)
    assert cleaned == {"msg": f"pw {REDACTED}", "items": [REDACTED, 3, None], "pair": ("a", REDACTED),
                       "subscriber_id": "98*****21", "token": REDACTED}
    assert original["msg"] == f"pw {PASSWORD}"  # the caller's object is untouched


def test_short_and_numeric_secrets_match_whole_tokens_only() -> None:
    register_secret("492039")  # a TOTP code
    assert redact("entered 492039 on the form") == f"entered {REDACTED} on the form"
    assert redact("ts=1714924920394") == "ts=1714924920394"  # digits inside a longer number stay


def test_url_encoded_secrets_are_caught() -> None:
    register_secret("p@ss w/rd&1")
    assert "p%40ss" not in redact("POST password=p%40ss%20w%2Frd%261&user=x")
    assert "p%40ss" not in redact("POST password=p%40ss+w%2Frd%261&user=x")


def test_objects_are_scrubbed_through_their_repr() -> None:
    register_secret(PASSWORD)

    class Creds:
        def __repr__(self) -> str:
            return f"Creds(password={PASSWORD!r})"

    assert PASSWORD not in redact({"creds": Creds()})["creds"]


def test_registry_scales_and_forgets_the_oldest() -> None:
    registry = SecretRegistry()
    values = [f"secret-value-{i:05d}" for i in range(300)]  # more than one compile tier
    for value in values:
        registry.add(value)
    text = " ".join(values[::37])
    assert "secret-value" not in registry.scrub(text)
    registry.add("x")  # too short to be useful; ignored rather than redacting every "x"
    assert registry.scrub("x marks") == "x marks"


def test_longest_registered_secret_wins() -> None:
    register_secret("abcdef12")
    register_secret("abcdef1234567")
    assert redact("token abcdef1234567 end") == f"token {REDACTED} end"
