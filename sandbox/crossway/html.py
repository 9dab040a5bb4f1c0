"""Page shells and form pieces of both Crossway apps: plain server-rendered HTML, every value escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

HUB_STYLE = ("body{font-family:Helvetica,Arial,sans-serif;margin:0;color:#1d2733} header{background:#0b4f6c;"
             "color:#fff;padding:10px 18px} header a{color:#fff} nav{background:#e4eef3;padding:6px 18px} "
             "nav a{margin-right:16px} main{padding:10px 18px} .banner{background:#fff4ce;padding:8px 18px;"
             "border-bottom:1px solid #e0c45c} .context{font-size:small;color:#456;padding:4px 18px} "
             ".error{color:#a40000} table.grid{border-collapse:collapse;margin:8px 0} table.grid th,"
             "table.grid td{border:1px solid #9aa9b5;padding:3px 8px;text-align:left} dl.kv{display:grid;"
             "grid-template-columns:max-content auto;gap:2px 14px} dl.kv dt{font-weight:bold}")
IDP_STYLE = ("body{font-family:Georgia,serif;background:#f3f1ec;margin:0} .card{background:#fff;width:420px;"
             "margin:40px auto;padding:24px;border:1px solid #ccc} .error{color:#a40000} label{display:block;"
             "margin-top:10px}")


def e(value: object) -> str:
    return escape(str(value))


def message(text: str | None, css: str = "error") -> str:
    return f'<p class="{css}" role="alert">{e(text)}</p>' if text else ""


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{e(name)}" value="{e(value)}">'


def field(label: str, name: str, value: str = "", kind: str = "text", autocomplete: str = "off") -> str:
    return (f'<label for="{e(name)}">{e(label)}</label><input id="{e(name)}" name="{e(name)}" type="{e(kind)}" '
            f'value="{e(value)}" autocomplete="{e(autocomplete)}">')


def form(action: str, body: str, button: tuple[str, str], *, csrf: str | None = None, form_id: str = "") -> str:
    """A POST form; button is (id, text)."""
    token = hidden("_csrf", csrf) if csrf is not None else ""
    fid = f' id="{e(form_id)}"' if form_id else ""
    return (f'<form method="post" action="{e(action)}"{fid}>{token}{body}'
            f'<p><button type="submit" id="{e(button[0])}">{e(button[1])}</button></p></form>')


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, table_id: str = "", css: str = "grid",
          raw: bool = False) -> str:
    """A table with a header row; cells are escaped unless `raw` (cells already HTML)."""
    tid = f' id="{e(table_id)}"' if table_id else ""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else e(c)}</td>" for c in row) + "</tr>\n" for row in rows)
    return f'<table class="{e(css)}"{tid}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>'


def definitions(pairs: Iterable[tuple[str, str]], *, list_id: str = "", css: str = "kv") -> str:
    lid = f' id="{e(list_id)}"' if list_id else ""
    return f'<dl class="{e(css)}"{lid}>' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in pairs) + "</dl>"


def hub_page(title: str, body: str, *, user: str | None = None, banner: str | None = None,
             context: str | None = None) -> str:
    """A hub page. `user`: the signed-in user's name (shows the menu); `banner`: the password-expiry
    warning; `context`: the organization and provider the session acts for."""
    menu = ('<nav><a href="/payers" id="nav-payers">Payers</a><a href="/organizations" id="nav-org">Change '
            'organization</a><a href="/signout" id="nav-signout">Sign out</a></nav>') if user else ""
    who = f' <span id="user-name">{e(user)}</span>' if user else ""
    warn = f'<div class="banner" id="password-warning" role="status">{e(banner)}</div>' if banner else ""
    acting = f'<div class="context" id="acting-for">{e(context)}</div>' if context else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Crossway - {e(title)}</title>'
            f'<style>{HUB_STYLE}</style></head>\n<body>\n<header><b>Crossway</b> Provider Hub{who}</header>\n'
            f'{menu}{warn}{acting}\n<main>\n<h1>{e(title)}</h1>\n{body}\n</main>\n</body></html>\n')


def idp_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Crossway ID - {e(title)}</title>'
            f'<style>{IDP_STYLE}</style></head>\n<body>\n<div class="card"><p><b>Crossway ID</b></p>\n'
            f'<h1>{e(title)}</h1>\n{body}\n</div>\n</body></html>\n')


def checkbox(label: str, name: str, value: str, *, box_id: str, checked: bool = False) -> str:
    ticked = " checked" if checked else ""
    return (f'<p><input type="checkbox" name="{e(name)}" value="{e(value)}" id="{e(box_id)}"{ticked}> '
            f'<label for="{e(box_id)}">{e(label)}</label></p>')
