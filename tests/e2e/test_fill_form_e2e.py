"""`PortalSession.fill_form` and its clicks: a form filled in one round trip to the page when every field can be
typed into, with the events typing brings, and field by field (Playwright's `fill`, which waits) otherwise; a
field it cannot fill at once is left as it was. A click made by the page when a person could make it now, else
by Playwright, never twice (real Chromium, no portal needed)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from aggregator.browser import CLICK_JS, FILL_FORM_JS, PortalSession

FORM = """<form>
<input name=memberId maxlength=12><input name=dob type=date><textarea name=note></textarea>
<input name=disabled disabled><input name=readonly readonly><input name=hidden style="display:none">
<input name=invisible style="visibility:hidden"><input name=box type=checkbox><input name=number type=number>
<input class=twice><input class=twice>
<fieldset disabled><input name=inside></fieldset>
</form>
<script>
  window.heard = [];
  for (const field of document.querySelectorAll("input, textarea")) {
    for (const kind of ["focus", "input", "change"]) {
      field.addEventListener(kind, (e) => window.heard.push([e.target.name, e.type, e.target.value]));
    }
  }
</script>"""


@pytest.fixture
async def session(blank_session: PortalSession) -> PortalSession:
    await blank_session._page.set_content(FORM)
    return blank_session


async def values(session: PortalSession) -> dict[str, str]:
    return dict(await session._page.evaluate(
        "() => [...document.querySelectorAll('[name]')].map(f => [f.name, f.value])"))


async def test_a_form_is_filled_at_once_with_the_events_of_typing(session: PortalSession,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    async def one_by_one(selector: str, value: object) -> None:
        raise AssertionError("filled field by field")

    monkeypatch.setattr(session, "fill", one_by_one)
    await session.fill_form({"input[name=memberId]": "XRG12345678", "input[name=dob]": "1980-01-02",
                             "textarea[name=note]": SecretStr("two\nlines")})
    filled = await values(session)
    assert (filled["memberId"], filled["dob"], filled["note"]) == ("XRG12345678", "1980-01-02", "two\nlines")
    assert await session._page.evaluate("() => window.heard") == [
        ["memberId", "focus", ""], ["memberId", "input", "XRG12345678"], ["memberId", "change", "XRG12345678"],
        ["dob", "focus", ""], ["dob", "input", "1980-01-02"], ["dob", "change", "1980-01-02"],
        ["note", "focus", ""], ["note", "input", "two\nlines"], ["note", "change", "two\nlines"],
    ]
    assert await session._page.evaluate("() => document.activeElement.name") == "note"  # as after typing


@pytest.mark.parametrize(("selector", "value", "why"), [
    ("input[name=missing]", "x", "0 elements match input[name=missing]"),
    (".twice", "x", "2 elements match .twice"),
    ("input[name=disabled]", "x", "input[name=disabled] is not editable"),
    ("input[name=inside]", "x", "input[name=inside] is not editable"),
    ("input[name=readonly]", "x", "input[name=readonly] is not editable"),
    ("input[name=hidden]", "x", "input[name=hidden] is not displayed"),
    ("input[name=invisible]", "x", "input[name=invisible] is not displayed"),
    ("input[name=box]", "x", "input[name=box] is not a text field"),
    ("input[name=memberId]", "X" * 13, "input[name=memberId] is shorter than its value"),
])
async def test_a_field_that_cannot_be_typed_into_now_leaves_every_field_as_it_was(  # type: ignore[no-untyped-def]
        session: PortalSession, selector: str, value: str, why: str) -> None:
    before = await values(session)
    said = await session._page.evaluate(FILL_FORM_JS, [["input[name=memberId]", "XRG1"], [selector, value]])
    assert said == why  # names the field, never the value
    assert await values(session) == before


async def test_a_value_the_field_refuses_is_reported(session: PortalSession) -> None:
    said = await session._page.evaluate(FILL_FORM_JS, [["input[name=number]", "not a number"]])
    assert said == "input[name=number] did not take its value"


async def test_a_field_drawn_later_is_waited_for_field_by_field(session: PortalSession) -> None:
    # A single-page app draws its form after the screen: the fill waits for the state it needs, not for time.
    await session._page.evaluate("""() => setTimeout(() => {
        const field = document.createElement("input"); field.name = "late"; document.forms[0].append(field);
    }, 200)""")
    await session.fill_form({"input[name=memberId]": "XRG1", "input[name=late]": "drawn"})
    filled = await values(session)
    assert (filled["memberId"], filled["late"]) == ("XRG1", "drawn")


async def test_a_selector_of_playwright_s_own_is_filled_field_by_field(session: PortalSession) -> None:
    await session.fill_form({"input[name=memberId] >> nth=0": "XRG2"})
    assert (await values(session))["memberId"] == "XRG2"


CLICKS = """<style>#cover { position: fixed; left: 0; top: 300px; width: 400px; height: 100px; }</style>
<p><button id=go>Go</button><button id=off disabled>Off</button></p>
<p style="margin-top: 3000px"><button id=below>Below</button></p>
<button id=away style="position: fixed; left: -500px; top: 10px">Away</button>
<button id=hidden style="display:none">Hidden</button><b class=two>1</b><b class=two>2</b>
<div id=cover><button id=under>Under</button></div>
<button id=covered style="position: fixed; left: 10px; top: 150px">Covered</button>
<div style="position: fixed; left: 0; top: 140px; width: 300px; height: 60px; background: white"></div>
<script>
  window.clicked = [];
  document.addEventListener("click", (e) => window.clicked.push(e.target.id || e.target.className), true);
</script>"""


def refuse_playwright_clicks(session: PortalSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on a click through Playwright fails the test: the page must make them."""
    async def by_playwright(*args: object, **kwargs: object) -> None:
        raise AssertionError("clicked by Playwright")

    monkeypatch.setattr(session._page, "click", by_playwright)


@pytest.mark.parametrize(("selector", "why"), [
    ("#missing", "0 elements match #missing"),
    (".two", "2 elements match .two"),
    ("#off", "#off is disabled"),
    ("#hidden", "#hidden is not displayed"),
    ("#away", "#away is outside the view"),
    ("#covered", "#covered is covered"),
    ("text=Go", "text=Go is not a CSS selector"),
])
async def test_a_click_the_page_cannot_take_now_is_not_made(session: PortalSession, selector: str,  # type: ignore[no-untyped-def]
                                                             why: str) -> None:
    await session._page.set_content(CLICKS)
    assert await session._page.evaluate(CLICK_JS, selector) == why  # Playwright then clicks, waiting as it does
    assert await session._page.evaluate("() => window.clicked") == []


async def test_a_click_the_page_can_take_is_made_once_by_the_page(session: PortalSession,  # type: ignore[no-untyped-def]
                                                                 monkeypatch) -> None:
    await session._page.set_content(CLICKS)
    refuse_playwright_clicks(session, monkeypatch)
    await session.click("#go")
    await session.click("#under")  # inside the element on top: the element hit is the one clicked
    await session.click("#below")  # scrolled to first, as a person would
    assert await session._page.evaluate("() => window.clicked") == ["go", "under", "below"]
    assert await session._page.evaluate("() => window.scrollY") > 2000


async def test_a_button_drawn_later_is_waited_for_and_clicked_once(session: PortalSession) -> None:
    await session._page.set_content("<p>loading</p>")
    await session._page.evaluate("""() => { window.clicked = []; setTimeout(() => {
        const button = document.createElement("button"); button.id = "late"; button.textContent = "Late";
        button.onclick = () => window.clicked.push("late"); document.body.append(button);
    }, 200); }""")
    await session.click("#late")
    assert await session._page.evaluate("() => window.clicked") == ["late"]


async def test_buttons_the_page_can_click_now_are_clicked_together_by_the_page(session: PortalSession,  # type: ignore[no-untyped-def]
                                                                              monkeypatch) -> None:
    await session._page.set_content(CLICKS)
    refuse_playwright_clicks(session, monkeypatch)
    await session.click_each(["#go", "#under", "#below"])
    assert await session._page.evaluate("() => window.clicked") == ["go", "under", "below"]
    await session.click_each([])
    assert await session._page.evaluate("() => window.clicked") == ["go", "under", "below"]


async def test_from_the_first_button_the_page_cannot_click_now_each_is_waited_for_once(session: PortalSession) -> None:
    await session._page.set_content(CLICKS)
    await session._page.evaluate("""() => setTimeout(() => {
        const button = document.createElement("button"); button.id = "late"; button.textContent = "Late";
        document.body.prepend(button);
    }, 200)""")
    await session.click_each(["#go", "#late", "#under"])
    # #go by the page at once; #late waited for and clicked by Playwright; #under after it, once.
    assert await session._page.evaluate("() => window.clicked") == ["go", "late", "under"]


async def test_click_if_there_clicks_what_is_there_once_and_leaves_what_is_not(  # type: ignore[no-untyped-def]
        session: PortalSession, monkeypatch) -> None:
    await session._page.set_content(CLICKS)
    clicked_by_playwright: list[str] = []
    click = session._page.click

    async def recorded(selector: str, **kwargs: Any) -> None:
        # The cover goes only once Playwright is asked: until then the page cannot click, however long that takes.
        await session._page.evaluate("() => setTimeout(() => document.querySelector('#covered ~ div').remove(), 100)")
        clicked_by_playwright.append(selector)
        await click(selector, **kwargs)

    monkeypatch.setattr(session._page, "click", recorded)
    assert await session.click_if_there("#missing") is False  # nothing matches: nothing done
    assert await session.click_if_there("#go") is True  # by the page
    # Covered: the page does not click it; Playwright waits until it can (the cover taken away), once.
    assert await session.click_if_there("#covered") is True
    assert await session._page.evaluate("() => window.clicked") == ["go", "covered"]
    assert clicked_by_playwright == ["#covered"]
