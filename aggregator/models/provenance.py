"""Where a record came from: which carrier and portal account, when, and which evidence backs it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True)

    carrier: str = Field(description="payer slug, e.g. 'ridgeline'")
    portal: str | None = Field(default=None, description="the portal it was read on when not the payer's own "
                                                          "site, e.g. the hub 'crossway'")
    portal_account: str = Field(description="the vault account label used (never the username)")
    fetched_at: datetime = Field(description="UTC time the answering page was captured")
    evidence_ids: list[str] = Field(default_factory=list, description="ids of the evidence entries the values were read from")
