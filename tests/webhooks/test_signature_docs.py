"""The verification snippet in docs/webhooks.md, executed as printed, accepts what the product signs and
refuses a tampered signature, a tampered body, an old timestamp and a wrong secret."""

from __future__ import annotations

import json
import time

from aggregator.webhooks import signing
from tests.webhooks.receiver import DOCS, docs_verifier

SECRET = signing.new_secret()
BODY = json.dumps({"id": "e1", "type": "appointment.checked", "data": {"state": "verified"}},
                  sort_keys=True, separators=(",", ":"))


def signed(secret: str = SECRET, body: str = BODY, timestamp: int | None = None) -> dict[str, str]:
    return signing.signed_headers(secret, event_id="e1", event_type="appointment.checked", body=body,
                                  timestamp=timestamp)


def test_the_documented_snippet_accepts_a_signed_request():
    verify = docs_verifier()
    headers = signed()
    assert headers[signing.HEADER_SIGNATURE].startswith("v1=") and len(headers[signing.HEADER_SIGNATURE]) == 3 + 64
    assert verify(SECRET, headers, BODY.encode())
    # Header names arrive in any case (HTTP/2 lower-cases them).
    assert verify(SECRET, {k.lower(): v for k, v in headers.items()}, BODY.encode())
    assert verify(SECRET, {k.upper(): v for k, v in headers.items()}, BODY.encode())


def test_the_documented_snippet_refuses_tampering_replay_and_the_wrong_secret():
    verify = docs_verifier()
    headers = signed()
    digest = headers[signing.HEADER_SIGNATURE][3:]
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    assert not verify(SECRET, {**headers, signing.HEADER_SIGNATURE: "v1=" + flipped}, BODY.encode())
    assert not verify(SECRET, {**headers, signing.HEADER_SIGNATURE: "v0=" + digest}, BODY.encode())
    assert not verify(SECRET, {k: v for k, v in headers.items() if k != signing.HEADER_SIGNATURE}, BODY.encode())
    assert not verify(SECRET, headers, BODY.replace("verified", "failed").encode())  # the body changed
    # The timestamp is signed: moving it forward breaks the signature; an old signed one is outside the window.
    later = str(int(headers[signing.HEADER_TIMESTAMP]) + 1)
    assert not verify(SECRET, {**headers, signing.HEADER_TIMESTAMP: later}, BODY.encode())
    old = signed(timestamp=int(time.time()) - signing.REPLAY_WINDOW_SECONDS - 5)
    assert not verify(SECRET, old, BODY.encode())
    future = signed(timestamp=int(time.time()) + signing.REPLAY_WINDOW_SECONDS + 5)
    assert not verify(SECRET, future, BODY.encode())
    assert verify(SECRET, old, BODY.encode(), now=int(old[signing.HEADER_TIMESTAMP]) + 10)  # fresh then
    assert not verify(signing.new_secret(), headers, BODY.encode())  # another endpoint's secret
    assert not verify(SECRET, {**headers, signing.HEADER_TIMESTAMP: "yesterday"}, BODY.encode())


def test_the_product_and_the_documentation_agree():
    verify = docs_verifier()
    for headers, body, secret in ((signed(), BODY, SECRET), (signed(), BODY + " ", SECRET),
                                  (signed(timestamp=1), BODY, SECRET), (signed(), BODY, "whsec_other")):
        assert verify(secret, headers, body.encode()) == signing.verify(secret, headers, body.encode())
    # The documented replay window is the product's.
    assert f"REPLAY_WINDOW_SECONDS = {signing.REPLAY_WINDOW_SECONDS}" in DOCS.read_text()
