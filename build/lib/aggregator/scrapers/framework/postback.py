"""ASP.NET WebForms postbacks: links written `javascript:__doPostBack('target','argument')`.

Parsing the link says which control and argument a click posts back; the adapter then clicks that very
link (by its exact href), so the page's own script, form and `__VIEWSTATE` make the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.scrapers.framework.html import text_of

_POSTBACK = re.compile(r"^javascript:__doPostBack\('(?P<target>[\w$:.]+)','(?P<argument>[^'\\]*)'\)$")


@dataclass(frozen=True)
class PostBack:
    target: str
    argument: str
    href: str
    text: str

    @property
    def selector(self) -> str:
        """A CSS selector for exactly this link."""
        return f'a[href="{self.href}"]'


def postback_of(anchor: HtmlElement, *, field: str) -> PostBack:
    href = (anchor.get("href") or "").strip()
    match = _POSTBACK.match(href)
    if not match:
        raise ParseError(f"{field}: the link is not a postback")
    return PostBack(match.group("target"), match.group("argument"), href, text_of(anchor))


def postbacks_in(element: HtmlElement, *, field: str) -> list[PostBack]:
    """Every postback link inside `element`, in page order."""
    return [postback_of(a, field=field) for a in element.iter("a") if (a.get("href") or "").startswith("javascript:")]
