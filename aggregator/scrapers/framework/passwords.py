"""A portal's password rules, and new passwords that keep them.

The product changes a portal password itself (aggregator/password_change.py): it chooses the new one here,
from the operating system's secure random source (`secrets`), so that it keeps the portal's rules the first
time. A portal that refuses it anyway tells the person why (the password is never shown, anywhere).

`PasswordPolicy` is declared in the adapter's manifest (`Manifest.password_policy`), copied from the rules
the portal states on its change-password page; `problems` says which of them a password breaks (in words
that never repeat the password), `new_password` makes one that breaks none and never contains the user name.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from pydantic import SecretStr

__all__ = ["PasswordPolicy", "new_password"]

# The length chosen when the portal allows it: long enough that guessing is hopeless, short enough for
# portals that cap passwords at 20-32 characters.
PREFERRED_LENGTH = 24
MAX_TRIES = 1000  # a random draw that contains the user name is drawn again; a policy this cannot meet is wrong


@dataclass(frozen=True)
class PasswordPolicy:
    """What a portal accepts as a new password (its own rules, as its change-password page states them)."""

    min_length: int
    max_length: int = 64
    symbols: str = ""  # the symbols the portal allows; letters and digits are always allowed
    require_upper: bool = False
    require_lower: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    require_letter: bool = False  # at least one letter, either case
    forbid_username: bool = True  # the user name (or, for an e-mail address, its part before "@") must not appear

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("a password policy needs 1 <= min_length <= max_length")
        if self.require_symbol and not self.symbols:
            raise ValueError("a password policy that requires a symbol must say which symbols are allowed")
        if any(ch.isalnum() or ch.isspace() for ch in self.symbols):
            raise ValueError("a password policy's symbols are neither letters, digits nor spaces")
        if len(self._required_sets()) > self.max_length:
            raise ValueError("a password policy requires more kinds of characters than its maximum length")

    @property
    def alphabet(self) -> str:
        return string.ascii_letters + string.digits + self.symbols

    def _required_sets(self) -> list[str]:
        wanted = [(self.require_upper, string.ascii_uppercase), (self.require_lower, string.ascii_lowercase),
                  (self.require_digit, string.digits), (self.require_symbol, self.symbols)]
        required = [chars for needed, chars in wanted if needed]
        if self.require_letter and not (self.require_upper or self.require_lower):
            required.append(string.ascii_letters)
        return required

    def problems(self, password: str | SecretStr, username: str | SecretStr | None = None) -> list[str]:
        """Which rules `password` breaks (empty: none). The sentences never repeat the password."""
        text = password.get_secret_value() if isinstance(password, SecretStr) else password
        user = username.get_secret_value() if isinstance(username, SecretStr) else username
        found = []
        if len(text) < self.min_length:
            found.append(f"shorter than {self.min_length} characters")
        if len(text) > self.max_length:
            found.append(f"longer than {self.max_length} characters")
        if self.require_upper and not any(ch in string.ascii_uppercase for ch in text):
            found.append("no upper-case letter")
        if self.require_lower and not any(ch in string.ascii_lowercase for ch in text):
            found.append("no lower-case letter")
        if self.require_letter and not any(ch in string.ascii_letters for ch in text):
            found.append("no letter")
        if self.require_digit and not any(ch in string.digits for ch in text):
            found.append("no digit")
        if self.require_symbol and not any(ch in self.symbols for ch in text):
            found.append(f"no symbol (one of {self.symbols})")
        if any(ch not in self.alphabet for ch in text):
            found.append("a character the portal does not allow" + (f" (symbols allowed: {self.symbols})"
                                                                   if self.symbols else " (letters and digits only)"))
        if self.forbid_username and user and any(part.casefold() in text.casefold() for part in _names_of(user)):
            found.append("contains the user name")
        return found


def _names_of(username: str) -> list[str]:
    """The user name, and for an e-mail address its part before "@" (what portals mean by "the user name")."""
    names = [username.strip()]
    local = username.strip().split("@")[0]
    if local and local != names[0]:
        names.append(local)
    return [name for name in names if name]


def new_password(policy: PasswordPolicy, username: str | SecretStr | None = None) -> SecretStr:
    """A random password that keeps `policy` and does not contain the user name."""
    random = secrets.SystemRandom()
    length = min(max(PREFERRED_LENGTH, policy.min_length), policy.max_length)
    for _ in range(MAX_TRIES):
        chars = [secrets.choice(chars) for chars in policy._required_sets()]
        chars += [secrets.choice(policy.alphabet) for _ in range(length - len(chars))]
        random.shuffle(chars)
        candidate = "".join(chars)
        if not policy.problems(candidate, username):
            return SecretStr(candidate)
    raise ValueError("no password keeping the policy could be made for this user name")
