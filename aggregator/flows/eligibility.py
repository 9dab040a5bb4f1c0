"""Carrier-agnostic checks on an eligibility answer before it is stored.

An adapter can parse a page correctly and still be looking at the wrong member, date or coverage (a
portal that silently ignored a search field, a drifted layout that shifted a column). These checks turn
any such inconsistency into "needs attention" instead of a stored wrong answer.
"""

from __future__ import annotations

from aggregator.errors import ParseError
from aggregator.models import (
    CoverageStatus,
    EligibilityAnswer,
    EligibilityQuery,
    EligibilityRecord,
    MemberNotFound,
)


class InconsistentAnswer(ParseError):
    """The page was read, but what it says does not answer the question asked."""


def validate_answer(query: EligibilityQuery, answer: EligibilityAnswer) -> EligibilityAnswer:
    if isinstance(answer, MemberNotFound):
        if answer.query != query:
            raise InconsistentAnswer("not-found result is for a different query")
        return answer
    _check_record(query, answer)
    return answer


def _check_record(query: EligibilityQuery, record: EligibilityRecord) -> None:
    if query.member_id is not None and record.member.member_id != query.member_id:
        raise InconsistentAnswer("the portal answered for a different member id than the one searched")
    if query.first_name and record.member.first_name.casefold() != query.first_name.casefold():
        raise InconsistentAnswer("the portal answered for a member with a different first name")
    if record.member.date_of_birth != query.date_of_birth:
        raise InconsistentAnswer("the portal answered for a member with a different date of birth")
    if query.last_name and record.member.last_name.casefold() != query.last_name.casefold():
        raise InconsistentAnswer("the portal answered for a member with a different last name")
    if record.service_date != query.service_date:
        raise InconsistentAnswer("the portal answered for a different date of service")
    coverage = record.coverage
    in_period = coverage.effective_date <= query.service_date and (
        coverage.termination_date is None or query.service_date <= coverage.termination_date
    )
    if coverage.termination_date and coverage.termination_date < coverage.effective_date:
        raise InconsistentAnswer("coverage ends before it starts")
    if (coverage.status is CoverageStatus.ACTIVE) != in_period:
        raise InconsistentAnswer("coverage status contradicts the coverage dates for the date of service")
