"""Issue 12 item 5: a URL in a debug log never carries a date of birth, member id or name in clear."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest

from aggregator.logging import forget_secrets, get_logger, redact, register_secret

DOB, MEMBER, LAST, FIRST = "1973-07-09", "BP5521907341", "Vasquez-Lindqvist", "Marisol"
SEARCH = (f"http://127.0.0.1:8102/api/members/search?dateOfBirth={DOB}&memberId={MEMBER}&lastName={LAST}"
          f"&firstName={FIRST}&dateOfService=2026-11-30&page=2")


def test_bluepeak_api_url_in_a_json_log_is_redacted(json_log: io.StringIO):
    get_logger("aggregator.browser").debug("api_response", carrier="bluepeak", url=SEARCH, status=200)
    logging.getLogger("playwright.fake").debug("request finished %s", SEARCH)  # a library's own log line
    out = json_log.getvalue()
    assert out.count("api_response") == 1 and "request finished" in out
    for value in (DOB, MEMBER, LAST, FIRST):
        assert value not in out, value
    assert "dateOfService=2026-11-30" in out and "page=2" in out  # not patient data: kept for debugging


@pytest.mark.parametrize("name", ["dob", "DOB", "dateOfBirth", "date_of_birth", "birthDate", "birthdate",
                                  "memberId", "member_id", "MemberID", "subscriberId", "ssn", "firstName",
                                  "lastName", "name", "patient_name", "given", "family"])
def test_phi_parameter_names_are_masked_in_any_string(name: str):
    value = "Q9x7Z3k1W8"
    for text in (f"GET /x?{name}={value}", f"/x?a=1&{name}={value}#top", f"{name}={value}&b=2",
                 f"see <http://h/p?{name}={value}>"):
        assert value not in redact({"message": text})["message"], text


def test_registered_dates_of_birth_are_scrubbed_in_every_written_form():
    forget_secrets()
    register_secret(date(1973, 7, 9))
    scrubbed = redact({"note": "born 1973-07-09, 07/09/1973 on the card, 19730709 in the file",
                       "service_date": date(1973, 7, 9), "other": date(2026, 11, 30)})
    assert "1973" not in str(scrubbed) and scrubbed["other"] == "2026-11-30"
    forget_secrets()
