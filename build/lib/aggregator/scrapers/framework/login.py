"""What a portal's login page says when it sends the adapter back, in the portal's words.

The words are carrier vocabulary; what each kind of message means (log in again, or a refused account
that the vault freezes) is the same for every carrier: `CarrierAdapter.login_refused` acts on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aggregator.scrapers.framework.html import header_key


@dataclass(frozen=True)
class LoginMessages:
    """`ended`: the login timed out or was taken over (log in again). `rejected`: message -> why the
    account was refused, a phrase that follows the portal's name. Messages in `continued` are matched as
    the start of what the page says (the portal goes on with a sentence of its own, e.g. whom to call);
    the others must be the whole message, so an unknown variant is never taken for a refusal."""

    ended: tuple[str, ...]
    rejected: Mapping[str, str]
    continued: frozenset[str] = field(default_factory=frozenset)

    def _says(self, message: str, words: str) -> bool:
        said, wanted = header_key(message), header_key(words)
        return said.startswith(wanted) if words in self.continued else said == wanted

    def login_ended(self, message: str) -> bool:
        return any(self._says(message, words) for words in self.ended)

    def rejection(self, message: str) -> str | None:
        return next((why for words, why in self.rejected.items() if self._says(message, words)), None)
