"""Logging for the whole product: structlog, with every event redacted before anyone sees it.

Three layers of redaction run on each event (structlog's and, through the same processors, the
standard library's, so Playwright/httpx logs are covered too):

1. keys that name a secret (password, totp, token, cookie, session, storage_state, csrf, answer...)
   have their value replaced by ``[REDACTED]``; a ``code`` that looks like a TOTP code too;
2. keys that name member data (member_id, first_name, dob...) are masked: ``RM******78``, ``J***``,
   ``****-**-**``;
3. in any string, a URL query or form parameter whose name means one of those (`?dateOfBirth=...`,
   `&memberId=...`, `lastName=...`, `ssn=...`) has its value masked the same way: a URL logged by
   Playwright or the browser hook never carries a date of birth in clear;
4. every secret the runner has registered (`register_secret`: passwords, seeds, cookie values, member
   ids, dates of birth...) is replaced wherever it appears in any string: the message, nested values,
   tracebacks.

Exceptions are rendered to plain text *before* redaction (never with locals: a rich traceback would
print a frame's password variable), so tracebacks are scrubbed like everything else.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, unquote_plus

import structlog
from pydantic import SecretStr
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

_SECRET_WORDS = frozenset({
    "password", "passwords", "passwd", "pwd", "passphrase", "secret", "secrets", "totp", "otp", "token",
    "tokens", "cookie", "cookies", "session", "sessions", "authorization", "csrf", "xsrf", "answer",
    "answers", "credential", "credentials", "apikey",
})
_SECRET_COMPOUNDS = ("storage_state", "set_cookie", "api_key", "private_key", "master_key", "vault_key")
_PHI_IDS = ("member_id", "subscriber_id", "member_number", "subscriber_number", "patient_id", "mrn", "ssn",
            "social_security_number", "member", "subscriber", "insured_id")
_PHI_NAMES = ("first_name", "last_name", "full_name", "patient_name", "member_name", "subscriber_name", "given_name",
              "family_name", "middle_name", "given", "family", "surname", "fname", "lname")
_PHI_DATES = ("dob", "date_of_birth", "birth_date", "birthdate", "birthday", "patient_dob", "member_dob")
_TOTP_LIKE = re.compile(r"^\d{6,8}$")


def _normalize_key(key: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)  # camelCase -> camel_case
    return re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")


def _key_kind(key: str) -> str | None:
    """What a key says about its value: 'secret', 'id', 'name', 'date', 'code' or None."""
    norm = _normalize_key(key)
    words = set(norm.split("_"))
    if words & _SECRET_WORDS or any(compound in norm for compound in _SECRET_COMPOUNDS):
        return "secret"

    def named(options: tuple[str, ...]) -> bool:
        return any(norm == option or norm.endswith("_" + option) for option in options)

    if named(_PHI_IDS):
        return "id"
    if norm == "name" or named(_PHI_NAMES):
        return "name"
    if named(_PHI_DATES):
        return "date"
    if "code" in words:  # reason_code, status_code stay; a 6-8 digit code is a TOTP code
        return "code"
    return None


# name=value after `?` or `&` (or at the start of a form body): the value ends at the next separator,
# whitespace or quote, so a URL inside a sentence or a repr is caught too.
_URL_PARAMETER = re.compile(r"(?:(?<=[?&])|^)([A-Za-z0-9_.%\-\[\]]{1,80})=([^&#\s'\"<>]*)")


def _redact_url_parameters(text: str) -> str:
    if "=" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        kind = _key_kind(unquote_plus(name))
        if not value or kind is None:
            return match.group(0)
        if kind == "secret":
            return f"{name}={REDACTED}"
        if kind == "code":
            return f"{name}={REDACTED}" if _TOTP_LIKE.match(value) else match.group(0)
        return f"{name}={_MASKS[kind](unquote_plus(value))}"

    return _URL_PARAMETER.sub(replace, text)


def mask_id(value: object) -> str:
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    if len(text) < 8:
        return "*" * (len(text) - 2) + text[-2:]
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


def mask_name(value: object) -> str:
    text = str(value).strip()
    return text[:1] + "***" if text else text


def mask_date(value: object) -> str:
    return "****-**-**"


_MASKS = {"id": mask_id, "name": mask_name, "date": mask_date}


# --- registered secrets ---------------------------------------------------------------------------

def _trie_regex(values: list[str]) -> str:
    """One regex matching any of `values`, shaped as a trie so matching cost barely grows with their
    number (a flat a|b|c alternation tries every value at every position)."""
    trie: dict[str, Any] = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a value

    def build(node: dict[str, Any]) -> str:
        branches = []
        for char, child in sorted(node.items()):
            if not char:
                continue
            literal = char
            while len(child) == 1 and "" not in child:  # collapse chains: long cookies stay shallow
                ((next_char, child),) = child.items()
                literal += next_char
            branches.append(re.escape(literal) + build(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longest secret wins

    return build(trie)


def _pattern(values: list[str]) -> re.Pattern[str] | None:
    # Short or all-digit values only match as whole tokens: a 6-digit code must not eat a timestamp.
    loose = [v for v in values if len(v) >= 6 and not v.isdigit()]
    bounded = [v for v in values if len(v) < 6 or v.isdigit()]
    parts = []
    if loose:
        parts.append(_trie_regex(loose))
    if bounded:
        parts.append(r"(?<![0-9A-Za-z])(?:" + _trie_regex(bounded) + r")(?![0-9A-Za-z])")
    return re.compile("|".join(parts)) if parts else None


class SecretRegistry:
    """Process-wide set of strings that must never reach a log.

    Bounded (oldest forgotten first; re-registering refreshes a value), and compiled in two tiers so
    that registering a value per lookup does not recompile a pattern of thousands of values each time.
    Compiled when a log event is scrubbed, not when a value is added: a lookup registers several values
    (and an account's secrets again on every lookup), and most events below the log level are never
    scrubbed, so adding is a set update and the patterns are rebuilt at most once per scrub.
    """

    MIN_LENGTH = 2
    MAX_VALUES = 5000
    _RECENT_LIMIT = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[str, None] = OrderedDict()
        self._recent: list[str] = []
        self._base: re.Pattern[str] | None = None
        self._recent_pattern: re.Pattern[str] | None = None
        self._base_stale = self._recent_stale = False

    def add(self, value: str | SecretStr | date | None) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, date):  # a date of birth, in the forms portals and URLs write it
            for text in (value.isoformat(), value.strftime("%m/%d/%Y"), value.strftime("%Y%m%d")):
                self.add(text)
            return
        if not isinstance(value, str) or len(value.strip()) < self.MIN_LENGTH:
            return
        variants = {value, quote(value, safe=""), quote_plus(value, safe="")}  # as it appears in URLs/forms
        with self._lock:
            for variant in variants:
                if variant in self._values:
                    self._values.move_to_end(variant)
                    continue
                self._values[variant] = None
                self._recent.append(variant)
                self._recent_stale = True
            while len(self._values) > self.MAX_VALUES:
                self._values.popitem(last=False)  # still scrubbed until the base pattern's next rebuild
            if len(self._recent) > self._RECENT_LIMIT:
                self._recent, self._base_stale, self._recent_stale = [], True, True

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._recent, self._base, self._recent_pattern = [], None, None
            self._base_stale = self._recent_stale = False

    def _patterns(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        if self._base_stale or self._recent_stale:
            with self._lock:
                if self._base_stale:
                    # Every value not in the recent tier: a value both in the base and recent is harmless.
                    recent = set(self._recent)
                    self._base = _pattern([v for v in self._values if v not in recent])
                    self._base_stale = False
                if self._recent_stale:
                    self._recent_pattern = _pattern(self._recent)
                    self._recent_stale = False
        return self._base, self._recent_pattern

    def scrub(self, text: str) -> str:
        for pattern in self._patterns():
            if pattern is not None:
                text = pattern.sub(REDACTED, text)
        return text

    def is_secret(self, text: str) -> bool:
        return text in self._values


_registry = SecretRegistry()


def register_secret(value: str | SecretStr | date | None) -> None:
    """From now on, `value` is replaced by [REDACTED] wherever it appears in a log event (a date: in its
    ISO, US and compact forms)."""
    _registry.add(value)


def forget_secrets() -> None:
    """Empty the registry (tests)."""
    _registry.clear()


# --- redaction ------------------------------------------------------------------------------------

def _redact(value: Any, kind: str | None) -> Any:
    if kind == "secret":
        return REDACTED
    if isinstance(value, Mapping):
        return {(_registry.scrub(k) if isinstance(k, str) else k): _redact(v, _key_kind(str(k)))
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_redact(item, kind) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if value is None or isinstance(value, bool):
        return value
    if kind in _MASKS:
        return _MASKS[kind](value)
    if kind == "code" and _TOTP_LIKE.match(str(value)):
        return REDACTED
    if isinstance(value, str):
        return _registry.scrub(_redact_url_parameters(value))
    if isinstance(value, (int, float)):
        return REDACTED if _registry.is_secret(str(value)) else value
    if isinstance(value, (datetime, date)):
        text = value.isoformat()
        return REDACTED if _registry.is_secret(text) else text  # a registered date of birth under any key
    # Anything else is rendered by its repr, which may carry a secret: scrub that text.
    return _registry.scrub(_redact_url_parameters(repr(value) if not isinstance(value, SecretStr) else str(value)))


def redact(obj: Any) -> Any:
    """A redacted copy of `obj` (dicts, lists and strings at any depth), safe to log or show."""
    return _redact(obj, None)


def redact_processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    redacted: EventDict = _redact(event_dict, None)
    return redacted


# --- configuration --------------------------------------------------------------------------------

_HANDLER_FLAG = "_aggregator_handler"

# Exceptions become plain text (no locals) before redaction; see the module docstring.
_SHARED: list[Processor] = [
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
_SCRUB: list[Processor] = [structlog.processors.format_exc_info, redact_processor]


def _configure_structlog() -> None:
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.stdlib.filter_by_level,
                    structlog.processors.StackInfoRenderer(), *_SHARED, *_SCRUB,
                    # Redacted here already, so even a foreign handler on the root logger sees clean events.
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_logging(fmt: str = "console", level: str | int = "INFO", *, stream: TextIO | None = None) -> None:
    """Send structlog and stdlib logging, redacted, to `stream` (stderr) as console text or JSON lines.

    Idempotent: calling it again replaces our handler (new format/level/stream), never adds a second.
    """
    if fmt not in ("console", "json"):
        raise ValueError("fmt must be 'console' or 'json'")
    numeric = logging.getLevelNamesMapping().get(level.upper()) if isinstance(level, str) else level
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    out = stream if stream is not None else sys.stderr
    renderer: Processor = (structlog.processors.JSONRenderer() if fmt == "json"
                           else structlog.dev.ConsoleRenderer(colors=out.isatty()))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        # Stdlib records arrive unredacted: scrub them here (structlog events pass again, harmlessly).
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_SCRUB, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_FLAG, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    _configure_structlog()


def get_logger(name: str | None = None) -> Any:
    return structlog.stdlib.get_logger(name)


# Before configure_logging runs (a library user, a test), events still go through redaction and the
# stdlib's last-resort handler, never to stdout unredacted.
if not structlog.is_configured():
    _configure_structlog()
