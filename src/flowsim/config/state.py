"""State files: a company's open work at one date, written by hand or by ``flowsim snapshot``.

A state file is YAML (every key is described in docs/state.md)::

    as_of: 2026-01-05              # the date the state describes (day 0 of the forecast)
    live: [alder, aspen, beech]    # live customers by name; or a count: live: 20
    onboarding:
      - customer: sycamore
        since: 2025-10-06          # onboarding started (a date or an ISO time), or age_days: 63
        tasks_done: 6
        tasks_left: 2              # optional: tasks still to come besides the open ones
        open:
          - {id: OPS-1101, kind: task, created: 2025-12-01, started: true}
          - {id: OPS-1107, kind: ask, created: 2025-12-20}
    signed:
      - {customer: zelkova, signed: 2025-12-20}
    tickets:
      - {id: OPS-1120, class: urgent, customer: oak, created: 2026-01-02T10:00:00Z}

:func:`load_state` reads and checks one into a :class:`~flowsim.model.state.StartState`:
dates become ages in working days before the start of ``as_of`` (rounded to 0.01 day),
and any mistake is one :class:`ConfigError` naming the file, line and key.
:func:`dump_state` writes a state back as a commented state file, with ages
(``age_days``) where the state no longer knows the dates; loading it gives the same state.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from flowsim.config.errors import ConfigError, KeyPath, Origins, dotted, show, spec_error
from flowsim.config.loader import StrPath, read_yaml
from flowsim.model.calendar import working_date, working_days
from flowsim.model.state import OpenItem, OpenOnboarding, SignedCustomer, StartState

AGE_DECIMALS = 2
"""Ages computed from dates are rounded to 0.01 working day (a quarter of an hour)."""
TICKET_CLASSES = ("urgent", "normal", "how_to")
_WHEN = "a date such as 2025-12-01 or an ISO time such as 2025-12-01T09:30:00Z"


# ---------------------------------------------------------------- values
def _when(value: Any) -> dt.date | None:
    """A date, or an ISO time in UTC (a time without an offset is UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = (
                dt.datetime if "T" in value or " " in value.strip() else dt.date
            ).fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected {_WHEN}, got {show(value)}") from None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"expected {_WHEN}, got {show(value)}")


def _name(value: Any) -> Any:
    """Ids and names may be written as numbers (``id: 1101``); they are read as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


When = Annotated[dt.date | None, PlainValidator(_when)]
Name = Annotated[str, BeforeValidator(_name), Field(min_length=1)]
Age = Annotated[float | None, Field(ge=0)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    def _one_time(self, key: str) -> None:
        if (getattr(self, key) is None) == (getattr(self, "age_days") is None):  # noqa: B009
            raise ValueError(f"give either {key} (a date) or age_days, not both or neither")


class OpenSpec(_Spec):
    """A task or ask open in an onboarding project."""

    id: Name
    kind: Literal["task", "ask"]
    created: When = None
    age_days: Age = None
    started: StrictBool = False

    @model_validator(mode="after")
    def _time(self) -> OpenSpec:
        self._one_time("created")
        return self


class TicketSpec(_Spec):
    """An open support ticket."""

    id: Name
    cls: Literal["urgent", "normal", "how_to"] = Field(alias="class")
    customer: Name | None = None
    created: When = None
    age_days: Age = None
    started: StrictBool = False

    @model_validator(mode="after")
    def _time(self) -> TicketSpec:
        self._one_time("created")
        return self


class OnboardingSpec(_Spec):
    """A customer being onboarded."""

    customer: Name
    since: When = None
    age_days: Age = None
    tasks_done: int = Field(0, ge=0, strict=True)
    tasks_left: int | None = Field(None, ge=0, strict=True)
    open: list[OpenSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _time(self) -> OnboardingSpec:
        self._one_time("since")
        return self


class SignedSpec(_Spec):
    """A signed customer waiting to start onboarding."""

    customer: Name
    signed: When = None
    age_days: Age = None

    @model_validator(mode="after")
    def _time(self) -> SignedSpec:
        self._one_time("signed")
        return self


class StateSpec(_Spec):
    """A state file."""

    as_of: dt.date = Field(strict=True)
    live: list[Name] | int = Field(default_factory=list)
    onboarding: list[OnboardingSpec] = Field(default_factory=list)
    signed: list[SignedSpec] = Field(default_factory=list)
    tickets: list[TicketSpec] = Field(default_factory=list)
    source: str = ""
    notes: list[str] = Field(default_factory=list)

    @field_validator("as_of", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        if isinstance(value, dt.datetime):
            raise ValueError(
                f"expected a date such as 2026-01-05 (the state is of the start of a day), "
                f"got the time {_iso(_when(value) or value)}"
            )
        if not isinstance(value, dt.date):
            raise ValueError(f"expected a date such as 2026-01-05, got {show(value)}")
        return value

    @field_validator("live", mode="before")
    @classmethod
    def _names_or_count(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | list):
            raise ValueError(
                f"expected a list of customer names or a count such as 20, got {show(value)}"
            )
        if isinstance(value, int) and value < 0:
            raise ValueError(f"expected a count >= 0, got {value}")
        if isinstance(value, list):
            value = [_name(v) for v in value]
            bad = [v for v in value if not isinstance(v, str) or not v]
            if bad:
                raise ValueError(f"expected customer names, got {show(bad[0])}")
        return value


# ---------------------------------------------------------------- loading
def load_state(path: StrPath) -> StartState:
    """Read and check a state file.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML state file (``-`` reads standard input).

    Returns
    -------
    StartState
        Its open work, every date turned into an age in working days before ``as_of``.

    Raises
    ------
    ConfigError
        For the first problem, as one line naming the file, line and key: an unknown
        or missing key, a value of the wrong type, a date after ``as_of``, a repeated
        id or customer.
    """
    source = os.fspath(path)
    data, origins = read_yaml(path)
    if not data:
        raise ConfigError("missing required key 'as_of' (the file is empty)", source=source)
    try:
        spec = StateSpec.model_validate(data)
    except ValidationError as exc:
        raise _plain(spec_error(exc, origins, source)) from exc
    return _state(spec, _Locator(source, origins))


_PLAIN = {
    "Input should be greater than or equal to ": "expected a number >= ",
    "Input should be ": "expected ",
    "Field required": "missing required key",
}


def _plain(error: ConfigError) -> ConfigError:
    """pydantic's words as the rest of flowsim's messages say them: "expected ..., got ..."."""
    detail = error.detail
    for words, plain in _PLAIN.items():
        if detail.startswith(words):
            detail = plain + detail[len(words) :]
            break
    return ConfigError(detail, source=error.source, line=error.line, key=error.key)


class _Locator:
    """Raises a :class:`ConfigError` at a key path of the file."""

    def __init__(self, source: str, origins: Origins) -> None:
        self.source = source
        self.origins = origins

    def error(self, path: KeyPath, detail: str) -> ConfigError:
        for size in range(len(path), 0, -1):
            origin = self.origins.get(path[:size])
            if origin is not None:
                return ConfigError(detail, source=self.source, line=origin.line, key=dotted(path))
        return ConfigError(detail, source=self.source, key=dotted(path))


def _state(spec: StateSpec, at: _Locator) -> StartState:
    start = dt.datetime.combine(spec.as_of, dt.time(), tzinfo=dt.UTC)

    def age(path: KeyPath, when: dt.date | None, days: float | None) -> float:
        if when is None:
            assert days is not None  # the spec has one of the two
            return float(days)
        moment = (
            when
            if isinstance(when, dt.datetime)
            else dt.datetime.combine(when, dt.time(), tzinfo=dt.UTC)
        )
        if moment > start:
            raise at.error(
                path,
                f"expected a time no later than as_of ({spec.as_of}), got {_iso(when)}: "
                "the state knows only what was known at the start of as_of",
            )
        return round(working_days(moment, start), AGE_DECIMALS)

    seen_ids: dict[str, KeyPath] = {}

    def item_id(path: KeyPath, value: str) -> str:
        if value in seen_ids:
            raise at.error(path, f"repeated id {value!r} (first at {dotted(seen_ids[value])})")
        seen_ids[value] = path
        return value

    seen_customers: dict[str, KeyPath] = {}

    def customer(path: KeyPath, name: str) -> str:
        if name in seen_customers:
            raise at.error(
                path,
                f"customer {name!r} appears twice (first at {dotted(seen_customers[name])}); "
                "a customer is live, onboarding or signed, one at a time",
            )
        seen_customers[name] = path
        return name

    names = (
        [f"live_{n}" for n in range(1, spec.live + 1)] if isinstance(spec.live, int) else spec.live
    )
    live = tuple(customer(("live", k), n) for k, n in enumerate(names))
    onboarding = []
    for k, o in enumerate(spec.onboarding):
        here: KeyPath = ("onboarding", k)
        name = customer((*here, "customer"), o.customer)
        opened = tuple(
            OpenItem(
                id=item_id((*here, "open", j, "id"), item.id),
                kind=item.kind,
                age_days=age((*here, "open", j, "created"), item.created, item.age_days),
                customer=name,
                started=item.started,
            )
            for j, item in enumerate(o.open)
        )
        onboarding.append(
            OpenOnboarding(
                customer=name,
                age_days=age((*here, "since"), o.since, o.age_days),
                tasks_done=o.tasks_done,
                open=opened,
                tasks_left=o.tasks_left,
            )
        )
    signed = tuple(
        SignedCustomer(
            customer=customer(("signed", k, "customer"), s.customer),
            age_days=age(("signed", k, "signed"), s.signed, s.age_days),
        )
        for k, s in enumerate(spec.signed)
    )
    tickets = tuple(
        OpenItem(
            id=item_id(("tickets", k, "id"), t.id),
            kind="ticket",
            age_days=age(("tickets", k, "created"), t.created, t.age_days),
            cls=t.cls,
            customer=t.customer,
            started=t.started,
        )
        for k, t in enumerate(spec.tickets)
    )
    return StartState(
        as_of=spec.as_of,
        live=live,
        onboarding=tuple(onboarding),
        signed=signed,
        tickets=tickets,
        source=spec.source,
        notes=tuple(spec.notes),
    )


def _iso(when: dt.date) -> str:
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.isoformat()


# ---------------------------------------------------------------- writing
def dump_state(state: StartState) -> str:
    """A state as a commented state file; :func:`load_state` reads it back to ``state``.

    Ages are written as ``age_days`` (a state keeps no dates), each exactly, so that
    the round trip is exact; a comment gives the working day each one falls on.
    """
    lines = [
        "# flowsim state file: a company's open work at the start of as_of (docs/state.md).",
        "# Ages (age_days) are in working days (Monday to Friday) before as_of.",
        f"as_of: {state.as_of.isoformat()}",
    ]
    if state.source:
        lines.append(f"source: {_scalar(state.source)}")
    lines.append(f"# {len(state.live)} live customer{'s' if len(state.live) != 1 else ''}")
    lines += _flow_list("live", state.live)
    lines.append(f"# {len(state.onboarding)} customer(s) being onboarded")
    if not state.onboarding:
        lines.append("onboarding: []")
    else:
        lines.append("onboarding:")
    for o in state.onboarding:
        lines.append(f"  - customer: {_scalar(o.customer)}")
        lines.append(f"    age_days: {o.age_days!r}  # since {_day(state.as_of, o.age_days)}")
        lines.append(f"    tasks_done: {o.tasks_done}")
        if o.tasks_left is None:
            lines.append("    # tasks_left: not known; each replication draws the project's size")
        else:
            lines.append(f"    tasks_left: {o.tasks_left}")
        if not o.open:
            lines.append("    open: []")
            continue
        lines.append("    open:")
        for item in o.open:
            lines.append(f"      - {_item(item, state.as_of, ('kind',))}")
    lines.append(f"# {len(state.signed)} signed customer(s) waiting to start onboarding")
    lines.append("signed: []" if not state.signed else "signed:")
    for s in state.signed:
        fields = f"customer: {_scalar(s.customer)}, age_days: {s.age_days!r}"
        lines.append(f"  - {{{fields}}}  # signed {_day(state.as_of, s.age_days)}")
    lines.append(f"# {len(state.tickets)} open ticket(s)")
    lines.append("tickets: []" if not state.tickets else "tickets:")
    for t in state.tickets:
        lines.append(f"  - {_item(t, state.as_of, ('class', 'customer'))}")
    if state.notes:
        lines.append("notes:  # what was left out, and why")
        lines += [f"  - {_scalar(n)}" for n in state.notes]
    return "\n".join(lines) + "\n"


def _item(item: OpenItem, as_of: dt.date, keys: tuple[str, ...]) -> str:
    fields = [f"id: {_scalar(item.id)}"]
    for key in keys:
        value = {"kind": item.kind, "class": item.cls, "customer": item.customer}[key]
        if value is not None:
            fields.append(f"{key}: {_scalar(value)}")
    fields.append(f"age_days: {item.age_days!r}")
    if item.started:
        fields.append("started: true")
    return f"{{{', '.join(fields)}}}  # raised {_day(as_of, item.age_days)}"


def _flow_list(key: str, names: tuple[str, ...], width: int = 88) -> list[str]:
    if not names:
        return [f"{key}: []"]
    lines, line = [], f"{key}: ["
    for k, name in enumerate(names):
        text = _scalar(name) + ("]" if k == len(names) - 1 else ",")
        if len(line) + 1 + len(text) > width and not line.endswith("["):
            lines.append(line)
            line = "  " + text
        else:
            line += ("" if line.endswith("[") else " ") + text
    return [*lines, line]


def _scalar(value: str) -> str:
    """A string as a YAML plain or quoted scalar, as YAML needs it."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10**9, allow_unicode=True)
    return text.strip()[1:-1]


def _day(as_of: dt.date, age_days: float) -> str:
    """The working day ``age_days`` before ``as_of``, for a comment."""
    return f"about {working_date(as_of, -age_days)}" if age_days > 0 else "on as_of"
