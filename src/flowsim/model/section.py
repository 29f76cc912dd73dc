"""The base of every config section: validated, typed, refusing unknown keys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """One section of a flowsim config (``lead``, ``status_calls``, ...)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


def off_switch(what: str) -> Any:
    """The ``enabled`` field of a mechanism that is on by default."""
    return Field(True, description=f"Off switch for {what}: false removes the mechanism.")
