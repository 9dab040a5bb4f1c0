"""Logging for the whole product: structlog, with every event redacted before anyone sees it.

Three layers of redaction run on each event (structlog's and, through the same processors, the
standard library's, so Playwright/httpx logs are covered too):

1. keys that name a secret (password, totp, token, cookie, session, storage_state, csrf, answer...)
   have their value replaced by ``[REDACTED]``; a ``code`` that looks like a TOTP code too;
2. keys that name member data (member_id, first_name, dob...) are masked: ``RM******78``, ``J***``,
   ``****-**-**``;
3. every secret the runner has registered (`register_secret`: passwords, seeds, cookie values, member
   ids...) is replaced wherever it appears in any string: the message, nested values, tracebacks.

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
from urllib.parse import quote, quote_plus

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
_PHI_IDS = ("member_id", "subscriber_id")
_PHI_NAMES = ("first_name", "last_name", "full_name", "patient_name", "member_name", "subscriber_name")
_PHI_DATES = ("dob", "date_of_birth", "birth_date")
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

    def add(self, value: str | SecretStr | None) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
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
            while len(self._values) > self.MAX_VALUES:
                self._values.popitem(last=False)
            if len(self._recent) > self._RECENT_LIMIT:
                self._base, self._recent = _pattern(list(self._values)), []
            self._recent_pattern = _pattern(self._recent)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._recent, self._base, self._recent_pattern = [], None, None

    def scrub(self, text: str) -> str:
        for pattern in (self._base, self._recent_pattern):
            if pattern is not None:
                text = pattern.sub(REDACTED, text)
        return text

    def is_secret(self, text: str) -> bool:
        return text in self._values


_registry = SecretRegistry()


def register_secret(value: str | SecretStr | None) -> None:
    """From now on, `value` is replaced by [REDACTED] wherever it appears in a log event."""
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
        return _registry.scrub(value)
    if isinstance(value, (int, float)):
        return REDACTED if _registry.is_secret(str(value)) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    # Anything else is rendered by its repr, which may carry a secret: scrub that text.
    return _registry.scrub(repr(value) if not isinstance(value, SecretStr) else str(value))


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
