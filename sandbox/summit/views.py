"""What Summit Health Plan's portal pages look like: plain server-rendered HTML, every value escaped.

The benefits page only formats a ground-truth `EligibilityRecord` (sandbox.ground_truth.eligibility), so
the page says exactly what the ground truth says. Layout v2 (the `layout_version` fault) prints labels and
headers in capitals; for the plans in `V2_PLAN_SHARE_PLANS` it also changes a meaning (coinsurance as the
share the plan pays), which a correct adapter refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from aggregator.models import BenefitKind, BenefitLine, CoverageStatus, EligibilityRecord
from sandbox.dataset import CarrierData

from . import vocabulary as v

STYLE = ("body{font-family:Arial,sans-serif;margin:0} #top{background:#24506b;color:#fff;padding:8px 16px} "
         ".nav{padding:6px 16px;background:#e8eef2} .nav a{margin-right:14px} main{padding:8px 16px} "
         "td.label{font-weight:bold;padding-right:14px} table.grid{border-collapse:collapse;margin-top:12px} "
         "table.grid th,table.grid td{border:1px solid #999;padding:3px 8px} .msg{color:#a00} "
         "#footer{margin-top:24px;border-top:1px solid #ccc;font-size:small;padding:8px 16px}")


def meaning_change_for(data: CarrierData, member_id: str, layout: str) -> str | None:
    """Which v2 change of meaning (if any) this member's benefits page carries."""
    member = data.member(member_id)
    if layout != "v2" or member is None:
        return None
    return "plan_share" if data.plan_for(member).code in v.V2_PLAN_SHARE_PLANS else None


def page(title: str, body: str, *, username: str | None = None) -> str:
    """A whole page: the portal's header (with the signed-in user), menu, content and footer."""
    signed_in = f" | Logged in as {escape(username)}" if username else ""
    nav = ('<div class="nav"><a href="/home">Home</a> <a href="/eligibility">Eligibility &amp; Benefits</a> '
           '<a href="/logout">Sign Out</a></div>') if username else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(v.PORTAL_NAME)} - '
            f'{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n<div id="top"><b>'
            f'{escape(v.PORTAL_NAME)}</b> Provider Portal{signed_in}</div>\n{nav}\n<main>\n<h1>{escape(title)}</h1>\n'
            f'{body}\n</main>\n<div id="footer">{escape(v.FOOTER)}</div>\n</body></html>\n')


def message(text: str | None) -> str:
    return f'<p class="msg">{escape(text)}</p>' if text else ""


def form(action: str, csrf: str, fields: Iterable[tuple[str, str, str, str]], button: tuple[str, str, str]) -> str:
    """A POST form: fields are (label, name, type, value); button is (id, name, text)."""
    rows = "".join(f'<tr><td><label for="{name}">{escape(label)}</label></td><td><input id="{name}" name="{name}" '
                   f'type="{kind}" value="{escape(value)}"></td></tr>' for label, name, kind, value in fields)
    button_id, button_name, text = button
    return (f'<form method="post" action="{action}"><input type="hidden" name="csrfToken" value="{csrf}">'
            f'<table>{rows}</table><input type="submit" id="{button_id}" name="{button_name}" value="{text}">'
            '</form>')


def login(csrf: str, said: str | None) -> str:
    return page("Sign In", message(said) + form("/login", csrf, (
        ("User name", "username", "text", ""), ("Password", "password", "password", "")),
        ("loginButton", "signin", "Sign In")))


def verification(csrf: str, said: str | None) -> str:
    return page("Verification Code", "<p>Enter the 6-digit code from your authenticator app.</p>" + message(said)
                + form("/mfa", csrf, (("Code", "code", "text", ""),), ("verifyButton", "verify", "Verify")))


def home(username: str, provider_name: str) -> str:
    return page("Home", f"<p>Welcome, {escape(provider_name)}.</p>", username=username)


def search(username: str, csrf: str, said: str | None, values: dict[str, str]) -> str:
    return page("Member Search", message(said) + form("/eligibility", csrf, (
        ("Member ID", "memberId", "text", values.get("memberId", "")),
        ("Date of Birth (MM/DD/YYYY)", "dob", "text", values.get("dob", "")),
        ("Last Name (optional)", "lastName", "text", values.get("lastName", "")),
        ("Date of Service (MM/DD/YYYY)", "dos", "text", values.get("dos", ""))),
        ("searchButton", "search", "Search")), username=username)


def maintenance(until: str) -> str:
    return page("Scheduled Maintenance", f"<p>The portal is unavailable for scheduled maintenance until {escape(until)} "
                "ET. Please try again later.</p>")


def notice(title: str, text: str, username: str | None = None) -> str:
    return page(title, f"<p>{escape(text)}</p>", username=username)


def benefits(record: EligibilityRecord, data: CarrierData, layout: str, username: str) -> str:
    change = meaning_change_for(data, record.member.member_id, layout)

    def label(text: str) -> str:
        return text.upper() if layout == "v2" else text

    m, c, p = record.member, record.coverage, record.plan
    labels = (
        ("Member ID:", m.member_id), ("First Name:", m.first_name), ("Last Name:", m.last_name),
        ("Date of Birth:", v.fmt_date(m.date_of_birth)), ("Relationship:", v.RELATIONSHIPS[m.relationship]),
        ("Subscriber ID:", m.subscriber_id), ("Date of Service:", v.fmt_date(record.service_date)),
        ("Payer:", record.payer.name), ("Payer ID:", record.payer.payer_id), ("Plan Name:", p.name),
        ("Plan Type:", v.PLAN_TYPES[p.insurance_type]), ("Group Number:", p.group_number),
        ("Group Name:", p.group_name), ("Coverage Status:", v.COVERAGE_STATUS[c.status]),
        ("Effective Date:", v.fmt_date(c.effective_date)),
        ("Termination Date:", v.fmt_date(c.termination_date) if c.termination_date else v.NO_VALUE),
        ("Benefit Lines:", str(len(record.benefits))),  # the count that proves the table whole
    )
    box = "".join(f'<tr><td class="label">{escape(label(name))}</td><td>{escape(value)}</td></tr>'
                  for name, value in labels)
    body = f'<table class="box">{box}</table>\n'
    if c.status is not CoverageStatus.ACTIVE:
        return page("Eligibility & Benefits", body + f"<p>{escape(v.INACTIVE_NOTICE)}</p>", username=username)
    headers = ("Service", "Benefit", "Network", "Level", "Period", "Value", "Prior Authorization")
    head = "".join(f"<th>{escape(label(h))}</th>" for h in headers)
    rows = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in _row(line, change)) + "</tr>\n"
                   for line in record.benefits)
    body += f'<table class="grid">\n<tr>{head}</tr>\n{rows}</table>'
    return page("Eligibility & Benefits", body, username=username)


def _row(line: BenefitLine, change: str | None) -> tuple[str, ...]:
    kind = v.BENEFITS[line.kind]
    if line.kind is BenefitKind.COINSURANCE and line.percent is not None:
        value = v.fmt_percent(line.percent)
        if change == "plan_share":
            kind, value = v.V2_PLAN_SHARE_WORD, v.fmt_percent(1 - line.percent)
    elif line.kind is BenefitKind.LIMITATION and line.quantity is not None:
        value = v.fmt_visits(line.quantity)
    elif line.amount is not None:
        value = v.fmt_money(line.amount)
    else:
        value = v.NO_VALUE  # a non-covered service states no amount
    return (v.SERVICES[line.service_type], kind, v.NETWORKS[line.network],
            v.LEVELS[line.coverage_level] if line.coverage_level else v.NO_VALUE,
            v.PERIODS[line.time_period] if line.time_period else v.NO_VALUE, value, v.PRIOR_AUTH[line.prior_auth])
