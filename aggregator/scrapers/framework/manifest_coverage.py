"""What a practice needs to know about a portal beyond its capabilities: its caps, what it does not show
(`Gap`), and for each gap the call-the-payer checklist item (`CallThePayerItem`) staff work from.

`call_the_payer` (framework/manifest.py) builds the items; the coverage matrix (`aggregator carriers`,
docs/carriers.md) lists them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aggregator.models import ServiceType
from aggregator.scrapers.framework.manifest_kinds import Capability, CapKind, Need
from aggregator.scrapers.framework.maps import VocabularyMap

DEFAULT_CONTACT = "provider services"


class Cap(BaseModel):
    """A number the portal (or the adapter's reading of it) does not go beyond."""

    model_config = ConfigDict(frozen=True)

    kind: CapKind
    value: int = Field(ge=1)
    capability: Capability | None = Field(default=None, description="None: the whole portal")
    note: str = Field(default="", description="where the number comes from, or what happens beyond it")


class Gap(BaseModel):
    """Something the portal does not show. A per-service need may be shown for some service types only
    (`shown_for`): the gap is then every other service type."""

    model_config = ConfigDict(frozen=True)

    need: Need
    shown_for: frozenset[ServiceType] | None = Field(
        default=None, description="per-service needs: the service types the portal does show it for")
    note: str = Field(default="", description="what the portal shows instead, in its words")
    contact: str = Field(default=DEFAULT_CONTACT, min_length=3, description="whom to call at the payer")

    @model_validator(mode="after")
    def _scope(self) -> Gap:
        if self.need.is_whole_capability:
            raise ValueError(f"'{self.need.value}' is a whole capability: leave the capability out of the "
                             f"manifest instead of declaring it a gap")
        if self.shown_for is not None and not self.need.per_service:
            raise ValueError(f"'{self.need.value}' is not answered per service type: it has no shown_for")
        if self.shown_for is not None and not self.shown_for:
            raise ValueError("shown_for lists the service types the portal does show; an empty list means "
                             "none: leave shown_for out")
        return self

    def applies_to(self, service: ServiceType | None) -> bool:
        """Whether a visit for `service` falls in the gap (unknown service: only when nothing is shown)."""
        if self.shown_for is None:
            return True
        return service is not None and service not in self.shown_for

    def missing(self, service: ServiceType | None = None) -> str:
        """What the portal does not show: for a visit's `service`, or in general (the matrix)."""
        if service is not None:
            scope = service.label
        else:
            scope = "the service types it does not list" if self.shown_for is not None else "any service"
        return self.need.info.missing.format(service=scope)


class CallThePayerItem(BaseModel):
    """One checklist item: whom to call, what to ask, and which answer field the answer fills."""

    model_config = ConfigDict(frozen=True)

    carrier: str = Field(description="the carrier's slug")
    carrier_name: str
    need: Need
    capability: Capability
    not_at_carrier: bool = Field(description="True: the carrier's portal has no such capability at all")
    contact: str
    missing: str = Field(description="what the portal does not show")
    ask: str = Field(description="the question for the payer")
    fills: str = Field(description="the answer field it fills")

    @property
    def text(self) -> str:
        """The checklist line staff read, e.g. "Call Cascade Care provider services: ask the visits remaining
        this benefit year for Physical Therapy (fills: ...)"."""
        return f"Call {self.carrier_name} {self.contact}: ask {self.ask}"


def service_types_of(vocabulary: VocabularyMap[ServiceType]) -> frozenset[ServiceType]:
    """The service types a carrier's vocabulary map knows: what its pages can show (for `Gap.shown_for`),
    read from the very map the parser uses, so the matrix cannot claim more than the adapter reads."""
    return frozenset(vocabulary(word) for word in vocabulary.known())
