"""The base of every config section: validated, typed, refusing unknown keys."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Section(BaseModel):
    """One section of a flowsim config (``lead``, ``status_calls``, ...).

    No number may be NaN or infinite: an infinite rate or horizon would run for ever
    or exhaust memory instead of failing at once."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, validate_default=True, allow_inf_nan=False
    )


def _one_path_part(name: str) -> str:
    # A name becomes a folder or file name (results/<name>/): "..", "a/b" or "/etc"
    # would write outside the results folder.
    if (
        not name
        or name.startswith(".")
        or len(name) > 100
        or any(c in "/\\:" or ord(c) < 32 for c in name)
    ):
        raise ValueError(
            "expected a name that can be a folder name (1 to 100 characters, no / \\ : "
            f"or control characters, not starting with a dot), got {name!r}"
        )
    return name


FolderName = Annotated[str, AfterValidator(_one_path_part)]


def off_switch(what: str) -> Any:
    """The ``enabled`` field of a mechanism that is on by default."""
    return Field(True, description=f"Off switch for {what}: false removes the mechanism.")
