"""Walking a JSON document for the fuzz tests that replace its elements one path at a time."""

from __future__ import annotations

from typing import Any


def element_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in the document (keys and list indexes), the root's empty path first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += element_paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += element_paths(child, (*prefix, index))
    return found


def replace_each(document: Any, changes: list[tuple[tuple[Any, ...], Any]]) -> Any:
    """`document` with each (path, value) put in place, in order; a path an earlier change removed is skipped."""
    for path, value in changes:
        node = document
        try:
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    return document
