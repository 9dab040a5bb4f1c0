"""`GET /api/exports?date=D&format=fhir|x12-json|csv`: the day's answers for other systems, as
`aggregator export` writes them (aggregator/exports/formats.py, docs/exports.md).

The worklist's role rule (admin and staff: the answers are the same PHI the worklist shows; auditors get 403)
and, like every PHI read, an access-log entry before the answer goes out (object type "export", object id
"<date> <format>"). Evidence URLs in the FHIR Bundle are absolute, on the address the request came to.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from aggregator.exports.formats import MEDIA_TYPES, Export, NothingToExport, export_day
from aggregator.web import access_log
from aggregator.web.auth import DESK, Principal, api, context_of

router = APIRouter(prefix="/api", tags=["exports"])

ExportFormat = Literal["fhir", "x12-json", "csv"]

_DESCRIPTION = """The day's answers in one format:

- `fhir`: a FHIR R4 `Bundle` (type `collection`): per answer `CoverageEligibilityResponse` + `Coverage` +
  `Patient` + payer `Organization`, authorizations as `ClaimResponse` (use preauthorization, Da Vinci PAS
  shape), each visit's prior-auth answer as a `ServiceRequest` with Da Vinci CRD `ext-coverage-information`,
  claim status as `ClaimResponse` (use claim), and the evidence as `DocumentReference`s with a `Provenance`.
- `x12-json`: `{"date", "responses": [...]}`, one 271-shaped JSON per eligibility answer.
- `csv`: the worklist CSV.

The day's answers are the stored answers of that date's appointments plus the on-demand lookups asked that
day (practice time zone). 404 when there is nothing to export for the date."""


@router.get(
    "/exports", summary="The day's answers as FHIR R4, 271-shaped JSON or the worklist CSV",
    description=_DESCRIPTION, response_class=Response,
    responses={
        200: {"description": "the export (also offered as a file: Content-Disposition attachment)",
              "content": {MEDIA_TYPES["fhir"]: {"example": {"resourceType": "Bundle", "type": "collection",
                                                            "entry": []}},
                          MEDIA_TYPES["x12-json"]: {"example": {"date": "2026-12-01", "responses": []}},
                          "text/csv": {"example": "appointment_id,starts_at,patient_name,...\n"}}},
        404: {"description": "nothing to export for that date (the detail says why)"},
        422: {"description": "a date that is not YYYY-MM-DD, or an unknown format"},
    },
)
async def exports(request: Request, principal: Annotated[Principal, Depends(api(DESK))],
                  day: Annotated[date, Query(alias="date", description="appointment date, YYYY-MM-DD")],
                  format_name: Annotated[ExportFormat, Query(alias="format", description="fhir, x12-json or csv")] = "fhir",
                  ) -> Response:
    ctx = context_of(request)
    try:
        result: Export = await run_in_threadpool(
            export_day, ctx.repository, day, format_name, timezone=ctx.settings.timezone, files=ctx.files,
            base_url=str(request.base_url))
    except NothingToExport as empty:
        raise HTTPException(404, str(empty)) from None
    access_log.record(request, principal, "api_read", "export", f"{day.isoformat()} {format_name}")
    return Response(result.content, media_type=result.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})
