"""JSON from files the product does not write itself (appointment bundles, the vault file on disk),
read with a nesting limit.

A file nested thousands of levels deep makes `json.loads` (or whatever walks the result later) raise
RecursionError, which is a crash, not an answer. Real documents are shallow (a FHIR bundle about ten
levels, the vault five), so anything deeper is refused as malformed, with one sentence.
"""

from __future__ import annotations

import json
from typing import Any


class TooDeeplyNested(ValueError):
    """The JSON nests objects/lists deeper than the reader allows."""


def depth_of(value: Any) -> int:
    """How many objects/lists deep `value` goes (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_bounded(text: str | bytes, *, max_depth: int) -> Any:
    """`json.loads`, refusing (TooDeeplyNested) a document nested more than `max_depth` levels.

    Other malformations raise what json.loads raises (JSONDecodeError, a ValueError).
    """
    try:
        value = json.loads(text)
    except RecursionError:  # deeper than the interpreter's own limit: refused before any of it is used
        raise TooDeeplyNested(f"nested deeper than {max_depth} levels") from None
    if depth_of(value) > max_depth:
        raise TooDeeplyNested(f"nested deeper than {max_depth} levels")
    return value
