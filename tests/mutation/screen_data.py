"""Screen against data: pages that keep the data they loaded (BluePeak's
`<script type="application/json" data-aggregator-api=...>`) must agree with it, however that data is
serialised."""

from __future__ import annotations

import json
import random
import re
from copy import deepcopy
from datetime import timedelta
from decimal import Decimal

from lxml.html import HtmlElement

from tests.mutation import dom
from tests.mutation.corpus import Case
from tests.mutation.oracle import FLAG, SAME, leaf_values
from tests.mutation.sites import Made, norm, pick
from tests.mutation.variants import LAYOUT, MEANING, family


def _appendix(root: HtmlElement) -> HtmlElement | None:
    found = [s for s in root.iter("script") if s.get("data-aggregator-api") is not None]
    return found[-1] if found else None


def _lists_in(data: object, path: str = "") -> list[str]:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _lists_in(value, f"{path}/{key}")
    elif isinstance(data, list):
        if data and all(isinstance(item, dict) for item in data):
            found.append(path)
        for index, item in enumerate(data):
            found += _lists_in(item, f"{path}/{index}")
    return found


def _at(data: object, path: str) -> object:
    for part in filter(None, path.split("/")):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _strings_in(data: object, path: str = "") -> list[str]:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _strings_in(value, f"{path}/{key}")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _strings_in(item, f"{path}/{index}")
    elif isinstance(data, str) and re.fullmatch(r"\d+\.\d{2}|\d{4}-\d{2}-\d{2}", data):
        found.append(path)
    return found


@family("data_disagrees", MEANING)
def data_disagrees(case: Case, rng: random.Random) -> Made:
    """BluePeak keeps the JSON the page loaded next to the screen. A row removed from the data only, or an
    amount or date changed in the data only: screen and data disagree, needs attention."""
    if not case.has_data_appendix or case.expected_record is None or case.expected_record.get("kind") == "not_found":
        return []
    root = dom.parse(case.html)
    script = _appendix(root)
    if script is None or not script.text:
        return []
    data = json.loads(script.text)
    made = []
    for path in pick(rng, _lists_in(data), 1):
        changed = deepcopy(data)
        items = _at(changed, path)
        items.pop(rng.randrange(len(items)))
        made.append((f"one item of data list '{_shape(path)}' removed from the data only",
                     _with_data(case, changed), FLAG))
    leaves = leaf_values(case.expected_record)
    shown = [path for path in _strings_in(data) if norm(_at(data, path)) in leaves]  # values the record holds
    for path in pick(rng, shown, 2):
        changed = deepcopy(data)
        parent_path, key = path.rsplit("/", 1)
        parent = _at(changed, parent_path)
        index = int(key) if isinstance(parent, list) else key
        value = parent[index]
        if re.fullmatch(r"\d+\.\d{2}", value):
            parent[index] = f"{Decimal(value) + Decimal('1.00'):.2f}"
        else:
            parent[index] = (dom.parse_date(value, "%Y-%m-%d") + timedelta(days=3)).isoformat()
        made.append((f"data value '{_shape(path)}' changed in the data only",
                     _with_data(case, changed), FLAG))
    return made


def _shape(path: str) -> str:
    """A data path without its indexes (value-free): /claims/0/lines -> /claims[]/lines."""
    return re.sub(r"/\d+", "[]", path)


def _with_data(case: Case, data: object, **dumps: object) -> str:
    root = dom.parse(case.html)
    script = _appendix(root)
    script.text = json.dumps(data, **dumps)
    return dom.serialise(root)


def _shuffled_keys(data: object, rng: random.Random) -> object:
    if isinstance(data, dict):
        items = list(data.items())
        rng.shuffle(items)
        return {key: _shuffled_keys(value, rng) for key, value in items}
    if isinstance(data, list):
        return [_shuffled_keys(item, rng) for item in data]
    return data


def _reversed_lists(data: object) -> object:
    if isinstance(data, dict):
        return {key: _reversed_lists(value) for key, value in data.items()}
    if isinstance(data, list):
        items = [_reversed_lists(item) for item in data]
        return items[::-1] if items and all(isinstance(item, dict) for item in items) else items
    return data


@family("data_reformatted", LAYOUT)
def data_reformatted(case: Case, rng: random.Random) -> Made:
    """The data the page loaded, serialised differently: indented with its object keys in another order, or
    with its lists of objects in reverse order (an API whose lists are keyed, by claim number, line number
    or benefit, not by position). The same data: the same answer."""
    if not case.has_data_appendix:
        return []
    script = _appendix(dom.parse(case.html))
    if script is None or not script.text:
        return []
    data = json.loads(script.text)
    return [("data re-serialised: indented, keys reordered", _with_data(case, _shuffled_keys(data, rng), indent=2),
             SAME),
            ("data lists of objects in reverse order", _with_data(case, _reversed_lists(data)), SAME)]
