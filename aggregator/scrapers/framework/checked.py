"""The one checked path every parser and every answer goes through (applied by `CarrierAdapter`).

A parser either returns a record that keeps every invariant (framework/invariants.py) or raises an
`AggregatorError`. Whatever else escapes it (a pydantic refusal, a KeyError on a missing cell, an
`InvalidOperation` on a garbled amount, a RecursionError on absurd nesting) is a page the parser could
not read: a `ParseError` (needs attention) naming the kind of problem. The exception's message may
quote the page, so only its type and where it was raised are logged, for the programmer to find the bug.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Awaitable, Callable
from decimal import InvalidOperation
from typing import Any

from lxml.etree import LxmlError
from pydantic import ValidationError

from aggregator.errors import AggregatorError, ConfigurationError, ParseError
from aggregator.logging import get_logger
from aggregator.scrapers.framework.completeness import require_whole_page
from aggregator.scrapers.framework.invariants import check_answer, check_record
from aggregator.scrapers.framework.manifest import Capability

log = get_logger(__name__)

FLOWS = frozenset(c.value for c in Capability)


def validation_reason(error: ValidationError) -> str:
    """Which fields a model refused and why in pydantic's words ("greater_than"), never the input."""
    fields = ", ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['type']}" for e in error.errors())
    return f"the page does not make a valid record ({fields})"


def crash_reason(error: Exception) -> str:
    """What kind of problem an unexpected exception means, in words that carry no value."""
    name = type(error).__name__
    if isinstance(error, ValidationError):
        return validation_reason(error)
    if isinstance(error, RecursionError):
        return f"the page is nested too deeply to read ({name})"
    if isinstance(error, LxmlError):
        return f"the page's markup is unreadable ({name})"
    if isinstance(error, (UnicodeError, InvalidOperation, ArithmeticError, ValueError)):
        return f"a value on the page is in a form the parser cannot read ({name})"
    if isinstance(error, (KeyError, IndexError, AttributeError, TypeError)):
        return f"a part of the page the parser needs is missing or misplaced ({name})"
    return f"the page could not be read ({name})"


# The attribute that marks a wrapper made here, so a method inherited or wrapped twice is wrapped once.
CHECKED_MARK = "__checked__"


def log_crash(owner: Any, parser: str, error: Exception) -> None:
    """A programming error stays visible: its type and innermost frame, never its message (it may
    quote the page)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    manifest = getattr(owner, "manifest", None)
    log.warning("parser_crashed", carrier=getattr(manifest, "slug", None), parser=parser,
                error_type=type(error).__name__, where=where)


def checked_parser(func: Callable[..., Any], name: str, *, takes_class: bool) -> Callable[..., Any]:
    """`func` (a parser: `parse_answer(flow, html, query)` or `parse_document(kind, data)`) made safe."""
    if getattr(func, CHECKED_MARK, False):
        return func
    offset = 1 if takes_class else 0
    signature = inspect.signature(func)

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        given = list(signature.bind(*args, **kwargs).arguments.values())  # a wrong call raises as it is
        owner = given[0] if takes_class else None
        kind, data = (given[offset:offset + 2] + [None, None])[:2]
        if name == "parse_answer":
            if kind not in FLOWS:
                # The caller's mistake, not the page's: our side, not a page for a person to look at.
                raise ConfigurationError(f"there are no '{kind}' pages to parse")
            if isinstance(data, str):
                require_whole_page(data)
        try:
            answer = func(*args, **kwargs)
            check_record(answer)
        except AggregatorError:
            raise
        except Exception as error:  # noqa: BLE001 - the point: nothing else leaves a parser
            log_crash(owner, name, error)
            raise ParseError(crash_reason(error)) from None
        return answer

    setattr(checked, CHECKED_MARK, True)
    return checked


def checked_check(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """An adapter's `check_*` whose answer (records assembled from several pages) keeps every invariant;
    a violation carries the answer's evidence."""
    if getattr(method, CHECKED_MARK, False):
        return method

    @functools.wraps(method)
    async def checked(*args: Any, **kwargs: Any) -> Any:
        answer = await method(*args, **kwargs)
        check_answer(answer)
        return answer

    setattr(checked, CHECKED_MARK, True)
    return checked
