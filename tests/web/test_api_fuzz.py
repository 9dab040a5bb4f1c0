"""Schema-driven fuzzing of /api (schemathesis, in-process over ASGI) with each role's token.

For every operation of /api/openapi.json, for admin, staff and auditor, schemathesis generates requests
from the schema (valid ones, and invalid ones in negative mode) and the test asserts:
- no 5xx, ever;
- a role the route's rule (tests/web/test_role_matrix.py EXPECTED) does not allow never gets a 2xx: it
  gets 403 (or 400/422 when the body itself is malformed, which FastAPI reads before any dependency runs);
- a request that went out without the role's token (negative mode drops it) gets 401 (or 400/422);
- a role the rule allows never gets 401 or 403;
- every answer carries the security headers.
Deterministic (hypothesis derandomized, no example database) and bounded (EXAMPLES per operation, role
and mode). The counts are printed (`pytest -s`) for the closing note.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.python import asgi

from aggregator.web.app import SECURITY_HEADERS
from tests.web.conftest import Seed
from tests.web.test_role_matrix import EXPECTED, ROLES

EXAMPLES = 8  # per operation, role and generation mode: 480 requests, 30-40 s on a busy machine
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# FastAPI reads and validates a JSON body before any dependency (the token check) runs, so a body it cannot
# parse is refused as such (400, 422) even when the token would have been: a refusal that shows nothing.
REFUSED_BODY = (400, 422)


def test_api_fuzz_each_role_no_500_and_no_answer_outside_the_role_rules(app, seed: Seed):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app,
                                            headers={"Authorization": f"Bearer {seed.api_tokens['admin']}"})
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every /api route but the schema itself is fuzzed.
    assert {(op.method.upper(), op.path) for op in operations} == \
        {key for key in EXPECTED if key[1].startswith("/api/") and key[1] != "/api/openapi.json"}
    calls: Counter[str] = Counter()
    problems: list[str] = []
    started = time.monotonic()
    try:
        for role in ROLES:
            headers = {"Authorization": f"Bearer {seed.api_tokens[role]}"}
            for operation in operations:
                allowed = EXPECTED[(operation.method.upper(), operation.path)]
                for mode in MODES:
                    _fuzz(operation, mode, role, role in allowed, headers, calls, problems)
    finally:
        asgi.shutdown_lifespans()  # lookup jobs the fuzzer started end with the app
    elapsed = time.monotonic() - started
    print(f"\nAPI fuzzing: {sum(calls.values())} requests in {elapsed:.1f} s over {len(operations)} operations x "
          f"{len(ROLES)} roles x {len(MODES)} modes; status codes: {dict(sorted(calls.items()))}")
    kinds = Counter(problem.split(": ", 1)[0] + " " + problem.rsplit("(", 1)[-1] for problem in problems)
    assert problems == [], "\n".join([*problems[:10], *(f"{n} x {k}" for k, n in kinds.most_common())])


def _fuzz(operation, mode, role: str, allowed: bool, headers: dict[str, str],  # type: ignore[no-untyped-def]
          calls: Counter[str], problems: list[str]) -> None:
    label = f"{role} {mode.value} {operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        status = response.status_code
        calls[str(status)] += 1
        where = f"{label}: {status} for {case.method} {case.formatted_path}"
        # Negative mode also leaves the Authorization header out (the schema declares bearer auth), whatever
        # the caller passes: what was really sent decides which rule applies.
        sent_token = response.request.headers.get("authorization") == headers["Authorization"]
        if status >= 500:
            problems.append(f"{where} (server error)")
        elif not sent_token:
            if status not in REFUSED_BODY + (401,):
                problems.append(f"{where} (a request without the token was not refused)")
        elif not allowed and status not in REFUSED_BODY + (403,):
            problems.append(f"{where} (role not allowed, expected 403)")
        elif allowed and status in (401, 403):
            problems.append(f"{where} (role allowed, refused)")
        missing = [name for name in SECURITY_HEADERS if name.lower() not in {h.lower() for h in response.headers}]
        if missing:
            problems.append(f"{where} (missing headers {missing})")

    try:
        run()
    except Exception as error:  # noqa: BLE001 - an app crash inside the transport is a finding, not a test bug
        problems.append(f"{label}: {type(error).__name__}: {str(error).splitlines()[0][:200]}")


@pytest.fixture
def app(seed: Seed):  # type: ignore[no-untyped-def]
    # Its own app (not the shared fixture's): schemathesis keeps the app's lifespan for the process.
    from aggregator.web import create_app
    from tests.web.conftest import no_runner

    return create_app(seed.settings, runner_provider=no_runner)
