"""The base every normalized record shares: immutable, and unknown fields are rejected."""

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
