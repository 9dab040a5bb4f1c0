"""Cascade's password rules for its Change Password page: pure checks, one message per broken rule.

8 to 20 characters; at least one letter and one digit; only letters, digits and `!@#$%^*_-`; not the user
name (case ignored); not one of the last 5 passwords (the current one included).
"""

from __future__ import annotations

import re
import secrets

from sandbox.cascade import vocabulary as v

PASSWORD_HISTORY = 5
PASSWORD_LIFETIME_DAYS = 90  # a changed password expires this many days later (the notice is gone)
_ALLOWED = re.compile(r"^[A-Za-z0-9" + re.escape(v.PASSWORD_SYMBOLS) + r"]*$")


def password_problems(username: str, current: str, typed_current: str, new: str, confirm: str,
                      recent: list[str]) -> list[str]:
    """Why the change is refused (empty: accepted). `recent`: the last PASSWORD_HISTORY passwords."""
    problems = []
    if not secrets.compare_digest(typed_current.encode(), current.encode()):
        problems.append(v.MSG_PASSWORD_WRONG_CURRENT)
    if new != confirm:
        problems.append(v.MSG_PASSWORD_MISMATCH)
    if not 8 <= len(new) <= 20:
        problems.append(v.MSG_PASSWORD_LENGTH)
    if not (re.search(r"[A-Za-z]", new) and re.search(r"\d", new)):
        problems.append(v.MSG_PASSWORD_LETTER_DIGIT)
    if not _ALLOWED.match(new):
        problems.append(v.MSG_PASSWORD_CHARACTERS)
    if new.casefold() == username.casefold():
        problems.append(v.MSG_PASSWORD_USERNAME)
    if new in recent:
        problems.append(v.MSG_PASSWORD_REUSED)
    return problems
