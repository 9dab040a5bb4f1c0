"""The sandbox practice's appointment list for a day, pointing at the sandbox's own members.

`appointment_list(dataset, day, count)` is deterministic (same dataset, day, count, carriers, seed ->
same list) and mixes what a real schedule holds: mostly members whose coverage is active on the day
(subscribers and dependents), some termed and some future-effective, a few member ids nobody has and a
few wrong dates of birth. About a third of the visits need prior authorization on the member's plan
(a service type and/or procedures on the plan's list); many of those come from one of the member's own
authorizations, so "is there an approved one that covers the visit" gets every answer. Visits start
between 08:00 and 16:45 (15-minute slots); the provider is the dataset's practice NPI; the carrier is
written as its slug or, for about a quarter of the rows, its display name.

`carriers` names payers: the sandbox carriers (the default: every carrier in the dataset, so every existing
day is unchanged) and, only where asked, the payers reached through a sandbox hub (`sandbox.carriers.hub_payers()`:
Crossway's Harborview and Prairie), whose members come from the hub's data (`sandbox.carriers.payer_source`).
`hub_day(dataset, day, count)` is such a day for the hub payers alone (the batch's daily-limit test: 400 of them),
`with_hub_visits(rows, hub_rows)` adds a few to a day (the demo); `merged_day(*lists)` joins any lists of a day.

Each row is a dict with the import columns (`aggregator.overnight.appointments.COLUMNS`; `appointment_start` a
datetime, `patient_dob` a date, `procedure_codes` a list) plus fields the writers leave out
(`HIDDEN_FIELDS`): `kind` (the `sandbox.ground_truth` sample kinds: active_subscriber, dependent, termed,
future, not_found, wrong_dob), `needs_prior_auth` (the plan lists the visit's service; None when the
member does not exist) and `authorization` (the auth number the visit was built from, or None).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aggregator.models import ServiceType
from aggregator.overnight.appointments import COLUMNS
from sandbox import names
from sandbox.activity import AuthorizationData
from sandbox.carriers import hub_payers, payer_source, profiles
from sandbox.dataset import CarrierData, Dataset, MemberData, rng_for

S = ServiceType
HIDDEN_FIELDS = ("kind", "needs_prior_auth", "authorization")

# Share of the day's list per kind; every kind gets at least one row when count >= len(MIX).
MIX: tuple[tuple[str, float], ...] = (
    ("active_subscriber", 0.55), ("dependent", 0.17), ("termed", 0.08), ("future", 0.06), ("not_found", 0.06),
    ("wrong_dob", 0.08),
)
PRIOR_AUTH_SHARE = 1 / 3

# Procedures a visit of each service type is booked with (the practice's own catalogue).
PROCEDURES: dict[ServiceType, tuple[str, ...]] = {
    S.OFFICE_VISIT: ("99213", "99214", "99203"),
    S.DIAGNOSTIC_LAB: ("80053", "85025", "83036"),
    S.URGENT_CARE: ("99214", "87880"),
    S.MRI_CAT_SCAN: ("70551", "70553", "72148", "72141", "73721", "74177"),
    S.PHYSICAL_THERAPY: ("97110", "97140", "97161"),
    S.CHIROPRACTIC: ("98940", "98941"),
    S.MENTAL_HEALTH: ("90837", "90834", "90791"),
}
ROUTINE_SERVICES = (S.OFFICE_VISIT, S.OFFICE_VISIT, S.OFFICE_VISIT, S.DIAGNOSTIC_LAB, S.URGENT_CARE)
FIRST_SLOT, SLOTS, SLOT_MINUTES = time(8, 0), 36, 15  # 08:00 .. 16:45

FHIR_SYSTEMS = {
    "x12_service_type": "https://x12.org/codes/service-type-codes",
    "cpt": "http://www.ama-assn.org/go/cpt",
    "npi": "http://hl7.org/fhir/sid/us-npi",
    "v2_0203": "http://terminology.hl7.org/CodeSystem/v2-0203",
    "appointment_id": "urn:sandbox:practice:appointment-id",
}


def appointment_list(dataset: Dataset, day: date, count: int, carriers: Sequence[str] | None = None,
                     seed: int | None = None) -> list[dict[str, Any]]:
    """`count` appointments on `day`, sorted by start time; ids `A<yymmdd>-<nnnn>` in that order."""
    slugs = tuple(carriers) if carriers is not None else tuple(s for s in profiles() if s in dataset.carriers)
    if not slugs:
        raise ValueError("no carriers to book appointments with")
    rng = rng_for(dataset.seed if seed is None else seed, "appointments", day.isoformat(), ",".join(slugs))
    kinds = _every_carrier_gets_an_authorization_visit(_kinds(count, rng), len(slugs))
    datas = {slug: payer_source(dataset, slug).carrier(slug) for slug in slugs}
    pools = {slug: _pools(datas[slug], day, rng) for slug in slugs}
    used: dict[str, set[str]] = {slug: set() for slug in slugs}
    taken: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    for index, kind in enumerate(kinds):
        slug = slugs[index % len(slugs)]
        data = datas[slug]
        # Each carrier's 1st, 4th, 7th ... visit is one its plan lists for prior authorization (about a third of
        # the day), and its first one goes to an active member, so every carrier's prior-auth answer (or, at a
        # carrier without authorizations, "not available at this carrier") is on every demo day.
        wants_prior_auth = (index // len(slugs)) % 3 == 0
        if kind == "not_found":
            position = taken.get((slug, kind), 0)
            taken[(slug, kind)] = position + 1
            row = _unknown_member_row(rng, data, position, day)
        else:
            # Most prior-auth visits go to members holding an authorization, so it may cover the visit.
            with_auth = wants_prior_auth and kind in _AUTH_POOL_KINDS and rng.random() < 0.6
            pool = pools[slug][f"{kind}+auth" if with_auth and pools[slug][f"{kind}+auth"] else kind]
            if not pool:
                raise ValueError(f"carrier '{slug}' has no member of kind '{kind}' on {day}")
            member = next((m for m in pool if m.member_id not in used[slug]), pool[len(used[slug]) % len(pool)])
            used[slug].add(member.member_id)
            row = _member_row(rng, data, kind, member, day, wants_prior_auth)
        row["provider_npi"] = dataset.provider.npi
        row["carrier"] = data.profile.display_name if rng.random() < 0.25 else slug
        rows.append(row)
    rows.sort(key=lambda r: (r["appointment_start"], r["member_id"]))
    for number, row in enumerate(rows, start=1):
        row["appointment_id"] = f"A{day:%y%m%d}-{number:04d}"
    return [{column: row.get(column) for column in (*COLUMNS, *HIDDEN_FIELDS)} for row in rows]


def hub_day(dataset: Dataset, day: date, count: int, payers: Sequence[str] | None = None,
            seed: int | None = None) -> list[dict[str, Any]]:
    """`count` appointments on `day` for the payers reached only through a sandbox hub (default: every such
    payer, `sandbox.carriers.hub_payers()`), the same mix of kinds as any day; their ground truth is
    `sandbox.batch_truth.expected_eligibility(dataset, row)`. The batch's daily-limit test books 400 of them."""
    return appointment_list(dataset, day, count, carriers=tuple(payers) if payers is not None else hub_payers(),
                            seed=seed)


def with_hub_visits(rows: Sequence[dict[str, Any]], hub_rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One day's list with a few hub-payer visits added (the demo): see `merged_day`."""
    return merged_day(rows, hub_rows)


def merged_day(*lists: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Several lists of one day as one: the rows keep their content, the merged list is sorted by start time and
    numbered again (`A<yymmdd>-<nnnn>`). E.g. a day booked carrier by carrier, in counts of one's own choosing
    (benchmarks/scale_out.py)."""
    merged = sorted([dict(r) for rows in lists for r in rows], key=lambda r: (r["appointment_start"], r["member_id"]))
    for number, row in enumerate(merged, start=1):
        row["appointment_id"] = f"A{row['appointment_start']:%y%m%d}-{number:04d}"
    return merged


def payer_of(row: dict[str, Any]) -> str:
    """The payer slug of a row whose `carrier` is written as the slug or the display name."""
    from sandbox.carriers import hubs

    names = {p.display_name: slug for slug, p in profiles().items()}
    names.update({name: slug for hub in hubs().values() for slug, name in hub.payer_names.items()})
    return names.get(row["carrier"], row["carrier"])


def _every_carrier_gets_an_authorization_visit(kinds: list[str], carriers: int) -> list[str]:
    """Swap active members into the first round (one row per carrier) so each carrier's first visit, which
    wants prior authorization, is one a portal can answer; the mix of kinds is unchanged."""
    kinds = list(kinds)
    for first in range(min(carriers, len(kinds))):
        if kinds[first] in _AUTH_POOL_KINDS:
            continue
        swap = next((i for i in range(carriers, len(kinds)) if kinds[i] in _AUTH_POOL_KINDS), None)
        if swap is not None:
            kinds[first], kinds[swap] = kinds[swap], kinds[first]
    return kinds


def _kinds(count: int, rng: random.Random) -> list[str]:
    quota = {kind: int(share * count) for kind, share in MIX}
    if count >= len(MIX):
        quota = {kind: max(1, n) for kind, n in quota.items()}
    quota["active_subscriber"] += count - sum(quota.values())
    kinds = [kind for kind, n in quota.items() for _ in range(n)]
    rng.shuffle(kinds)
    return kinds[:count]


_AUTH_POOL_KINDS = ("active_subscriber", "dependent")


def _pools(data: CarrierData, day: date, rng: random.Random) -> dict[str, list[MemberData]]:
    everyone = list(data.members.values())
    active = [m for m in everyone if m.coverage_kind(day) == "active"]
    pools = {
        "active_subscriber": [m for m in active if m.is_subscriber],
        "dependent": [m for m in active if not m.is_subscriber],
        "termed": [m for m in everyone if m.coverage_kind(day) == "termed"],
        "future": [m for m in everyone if m.coverage_kind(day) == "future"],
        "wrong_dob": list(active),
    }
    for pool in pools.values():
        rng.shuffle(pool)
    for kind in _AUTH_POOL_KINDS:
        pools[f"{kind}+auth"] = [m for m in pools[kind] if _prior_auth_authorizations(data, m)]
    return pools


def _prior_auth_authorizations(data: CarrierData, member: MemberData) -> list[AuthorizationData]:
    listed = data.plan_for(member).prior_auth
    return [a for a in data.authorizations_for(member.member_id) if a.service_type in listed]


def _unknown_member_row(rng: random.Random, data: CarrierData, position: int, day: date) -> dict[str, Any]:
    gender = rng.choice((names.FEMALE_FIRST, names.MALE_FIRST))
    _, service, codes = _routine_visit(rng)
    return {"appointment_start": _start(rng, day), "patient_last_name": rng.choice(names.LAST),
            "patient_first_name": rng.choice(gender),
            "patient_dob": date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000)),
            "member_id": data.not_found_ids[position % len(data.not_found_ids)],
            "service_type": service, "procedure_codes": codes, "kind": "not_found", "needs_prior_auth": None,
            "authorization": None}


def _member_row(rng: random.Random, data: CarrierData, kind: str, member: MemberData, day: date,
                wants_prior_auth: bool) -> dict[str, Any]:
    dob = member.date_of_birth
    if kind == "wrong_dob":  # never after the visit: the file itself must stay valid
        dob += timedelta(days=rng.choice([d for d in (-400, -31, -1, 1, 31, 365) if dob + timedelta(days=d) <= day]))
    intended, service, codes, auth_number = _visit(rng, data, member, wants_prior_auth)
    return {"appointment_start": _start(rng, day), "patient_last_name": member.last_name,
            "patient_first_name": member.first_name, "patient_dob": dob, "member_id": member.member_id,
            "service_type": service, "procedure_codes": codes, "kind": kind,
            "needs_prior_auth": intended in data.plan_for(member).prior_auth, "authorization": auth_number}


def _start(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, FIRST_SLOT) + timedelta(minutes=SLOT_MINUTES * rng.randrange(SLOTS))


def _visit(rng: random.Random, data: CarrierData, member: MemberData,
           wants_prior_auth: bool) -> tuple[ServiceType | None, ServiceType | None, list[str], str | None]:
    """(the visit's service, the service type written or None, procedure codes, auth number it came from)."""
    plan = data.plan_for(member)
    if not wants_prior_auth or not plan.prior_auth:
        intended, service, codes = _routine_visit(rng)
        return intended, service, codes, None
    auths = _prior_auth_authorizations(data, member)
    if auths and rng.random() < 0.8:
        auth = rng.choice(auths)
        code = rng.choice(auth.services).procedure_code
        return (auth.service_type, *_shape(rng, auth.service_type, [code]), auth.auth_number)
    intended = rng.choice(plan.prior_auth)
    return (intended, *_shape(rng, intended, [rng.choice(PROCEDURES[intended])]), None)


def _routine_visit(rng: random.Random) -> tuple[ServiceType | None, ServiceType | None, list[str]]:
    if rng.random() < 0.3:  # many schedules carry no codes at all
        return None, None, []
    service = rng.choice(ROUTINE_SERVICES)
    return (service, *_shape(rng, service, rng.sample(PROCEDURES[service], rng.choice((1, 1, 2)))))


def _shape(rng: random.Random, service: ServiceType, codes: list[str]) -> tuple[ServiceType | None, list[str]]:
    """Both the service type and the codes (most rows), or only one of them."""
    roll = rng.random()
    return (service, codes) if roll < 0.6 else (service, []) if roll < 0.8 else (None, codes)


# --- writers ------------------------------------------------------------------------------------------

def _cell(value: object, date_style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%m/%d/%Y %H:%M") if date_style == "us" else value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.strftime("%m/%d/%Y") if date_style == "us" else value.isoformat()
    if isinstance(value, ServiceType):
        return value.value
    if isinstance(value, list | tuple):
        return ";".join(value)
    return str(value)


def write_csv(rows: Iterable[dict[str, Any]], path: Path, *, date_style: Literal["iso", "us"] = "iso") -> Path:
    """The import columns only (hidden fields left out), header first, UTF-8, `\\r\\n` as Excel writes."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_cell(row.get(column), date_style) for column in COLUMNS])
    return Path(path)


def write_fhir_bundle(rows: Iterable[dict[str, Any]], path: Path, *, timezone: str = "America/New_York") -> Path:
    """A FHIR R4 `collection` Bundle: one Practitioner per NPI, one Patient + Coverage per patient, and an
    Appointment per row (start with the practice's UTC offset, serviceType codings X12 + CPT)."""
    zone = ZoneInfo(timezone)
    entries: list[dict[str, Any]] = []
    practitioners: dict[str, str] = {}
    patients: dict[tuple[str, ...], str] = {}
    for row in rows:
        npi = row.get("provider_npi")
        if npi and npi not in practitioners:
            practitioners[npi] = f"pr{len(practitioners) + 1}"
            entries.append(_entry({"resourceType": "Practitioner", "id": practitioners[npi],
                                   "identifier": [{"system": FHIR_SYSTEMS["npi"], "value": npi}]}))
        key = tuple(_cell(row.get(c), "iso") for c in ("carrier", "member_id", "patient_last_name",
                                                       "patient_first_name", "patient_dob"))
        if key not in patients:
            patients[key] = patient_id = f"p{len(patients) + 1}"
            entries.extend(_patient_entries(row, patient_id))
        entries.append(_entry(_appointment(row, patients[key], practitioners.get(npi or ""), zone)))
    Path(path).write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=1),
                          encoding="utf-8")
    return Path(path)


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:sandbox:{resource['resourceType']}/{resource['id']}", "resource": resource}


def _patient_entries(row: dict[str, Any], patient_id: str) -> list[dict[str, Any]]:
    carrier = row["carrier"]
    known = profiles()
    payor = known[carrier].display_name if carrier in known else _hub_payer_name(carrier)
    patient = {"resourceType": "Patient", "id": patient_id,
               "name": [{"use": "official", "family": row["patient_last_name"], "given": [row["patient_first_name"]]}],
               "birthDate": _cell(row["patient_dob"], "iso")}
    coverage = {"resourceType": "Coverage", "id": f"c{patient_id[1:]}", "status": "active",
                "identifier": [{"type": {"coding": [{"system": FHIR_SYSTEMS["v2_0203"], "code": "MB"}]},
                                "value": row["member_id"]}],
                "beneficiary": {"reference": f"Patient/{patient_id}"}, "payor": [{"display": payor}]}
    return [_entry(patient), _entry(coverage)]


def _hub_payer_name(carrier: str) -> str:
    """A hub payer's display name (the value written when the row names it by slug), else the value itself."""
    from sandbox.carriers import hub_serving

    hub = hub_serving(carrier)
    return hub.payer_names.get(carrier, carrier) if hub is not None else carrier


def _appointment(row: dict[str, Any], patient_id: str, practitioner_id: str | None, zone: ZoneInfo) -> dict[str, Any]:
    start: datetime = row["appointment_start"].replace(tzinfo=zone)
    concepts = []
    if row.get("service_type"):
        concepts.append({"coding": [{"system": FHIR_SYSTEMS["x12_service_type"], "code": _cell(row["service_type"], "iso")}]})
    concepts.extend({"coding": [{"system": FHIR_SYSTEMS["cpt"], "code": code}]} for code in row.get("procedure_codes") or [])
    participants = [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}]
    if practitioner_id:
        participants.append({"actor": {"reference": f"Practitioner/{practitioner_id}"}, "status": "accepted"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment", "id": row["appointment_id"].lower(), "status": "booked",
        "identifier": [{"system": FHIR_SYSTEMS["appointment_id"], "value": row["appointment_id"]}],
        "start": start.isoformat(), "end": (start + timedelta(minutes=SLOT_MINUTES)).isoformat(),
        "participant": participants,
    }
    if concepts:
        resource["serviceType"] = concepts
    return resource
