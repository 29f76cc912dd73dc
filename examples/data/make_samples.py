"""Generate the sample tracker exports in this folder, reproducibly from a seed.

    python examples/data/make_samples.py            # rewrite them here
    python examples/data/make_samples.py --out DIR  # or elsewhere

The company is invented (customers are named after trees): about 20 live
customers raising roughly one support ticket a week each for a year, four
customers onboarded with their tasks (two still onboarding at the export), asks
to the lead, and some items still open when the export was taken.  The same work
is written five ways:

* ``tracker.csv``: the generic CSV (every item of the year);
* ``jira_export.csv`` and ``jira_map.yaml``: Jira's CSV export of the same year
  (one Epic per onboarding, which the mapping skips);
* ``trello_board.json`` and ``trello_map.yaml``: a Trello board of the last eight
  weeks (items created in them and older items still open).  Trello's export keeps
  the newest 1000 actions at most; this one keeps the newest 500, so that the
  older cards show what the importer does without their actions (creation from
  the card's id, done from its last activity).  The board also holds three
  archived cards that were never done.

Only the standard library is used, so the bytes depend on the seed alone
(``tests/test_import_data.py`` checks that the files here are what this script
writes).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20250106
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
EXPORTED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BOARD_FROM = EXPORTED - timedelta(weeks=8)
MAX_ACTIONS = 500  # Trello's export keeps at most the newest 1000; this one is cut shorter
CUSTOMERS = (
    *("alder", "aspen", "beech", "birch", "cedar", "cherry", "elm", "fir", "hazel", "holly"),
    *("juniper", "larch", "linden", "maple", "oak", "pine", "rowan", "spruce", "walnut", "willow"),
)
ONBOARDINGS = (
    ("hawthorn", datetime(2025, 2, 10, tzinfo=UTC)),
    ("poplar", datetime(2025, 5, 5, tzinfo=UTC)),
    ("sycamore", datetime(2025, 10, 6, tzinfo=UTC)),
    ("yew", datetime(2025, 11, 24, tzinfo=UTC)),
)
PEOPLE = ("Lead Engineer", "Contractor A", "Contractor B", "Support Desk")
TICKET_TITLES = {
    "urgent": ("Live system down for", "Data import failing for", "Nightly sync broken for"),
    "normal": ("Report totals wrong for", "Export missing fields for", "Slow search for"),
    "how_to": ("How to set up users for", "How to schedule reports for", "Question from"),
}
Item = dict[str, Any]


def company(seed: int = SEED) -> list[Item]:
    """Every work item of the year, in creation order, with its true times.

    An item has ``key`` (OPS-n), ``kind``, ``cls``, ``customer``, ``title``,
    ``created``, ``started`` and ``done`` (``None`` if not by the export),
    ``assignee`` and ``blocked_hours``; onboarding epics are kept apart (``epic``).
    """
    rng = random.Random(seed)
    items: list[Item] = []
    live_from = {c: START for c in CUSTOMERS}
    for name, signed in ONBOARDINGS:
        epic: Item = {"kind": "epic", "customer": name, "created": _at_work(rng, signed)}
        epic.update(cls=None, title=f"Onboarding {name}", blocked_hours=None)
        items.append(epic)
        tasks = []
        for n in range(rng.randint(8, 12)):
            created = _at_work(rng, signed + timedelta(days=rng.uniform(0, 40)))
            started = created + timedelta(days=rng.expovariate(1 / 25))
            done = started + timedelta(days=rng.expovariate(1 / 12))
            task = _item(created, started, done, "onboarding", None, name)
            task["title"] = f"{name}: custom feature {n + 1}"
            task["assignee"] = rng.choice(PEOPLE[:3])
            task["blocked_hours"] = (
                round(rng.expovariate(1 / 12), 1) if rng.random() < 0.6 else None
            )
            tasks.append(task)
        items += tasks
        live = max(t["done"] or EXPORTED for t in tasks)
        epic.update(started=None, done=_by_export(live), assignee="Lead Engineer")
        if live < EXPORTED:
            live_from[name] = live
    for customer, since in live_from.items():
        t = since
        while True:
            t += timedelta(days=rng.expovariate(1 / 7))
            if t >= EXPORTED:
                break
            items.append(_ticket(rng, customer, _at_work(rng, t)))
    t = START
    while True:
        t += timedelta(days=rng.expovariate(1 / 6))
        if t >= EXPORTED:
            break
        created = _at_work(rng, t)
        started = created + timedelta(days=rng.expovariate(1 / 8))
        ask = _item(created, started, started + timedelta(days=rng.expovariate(1)), "ask")
        ask["customer"] = rng.choice(CUSTOMERS) if rng.random() < 0.5 else None
        ask["title"] = rng.choice(("Spec for", "Review of", "Estimate for", "Call prep for"))
        ask["title"] += f" {ask['customer'] or 'the platform'}"
        ask["assignee"] = "Lead Engineer"
        items.append(ask)
    # A time moved into working hours may fall after the export was taken.
    items = [i for i in items if i["created"] < EXPORTED]
    items.sort(key=lambda i: (i["created"], i["kind"], i["title"]))
    for n, item in enumerate(items, start=1):
        item["key"] = f"OPS-{n}"
    return items


def _at_work(rng: random.Random, day: datetime) -> datetime:
    """A time in working hours on ``day``'s date, moved to Monday from a weekend."""
    day = day.replace(hour=0, minute=0, second=0, microsecond=0)
    day += timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)
    return day + timedelta(minutes=rng.randrange(8 * 60, 18 * 60))


def _by_export(t: datetime | None) -> datetime | None:
    return t if t is not None and t < EXPORTED else None


def _minute(t: datetime | None) -> datetime | None:
    return None if t is None else t.replace(second=0, microsecond=0)


def _item(
    created: datetime,
    started: datetime,
    done: datetime,
    kind: str,
    cls: str | None = None,
    customer: str | None = None,
) -> Item:
    started_m, done_m = _minute(_by_export(started)), _minute(_by_export(done))
    return {
        "kind": kind,
        "cls": cls,
        "customer": customer,
        "created": created,
        "started": started_m,
        "done": done_m if started_m is not None else None,
        "blocked_hours": None,
    }


def _ticket(rng: random.Random, customer: str, created: datetime) -> Item:
    cls = rng.choices(("urgent", "normal", "how_to"), weights=(2, 5, 3))[0]
    wait_days = {"urgent": 0.2, "normal": 3.0, "how_to": 1.0}[cls]
    work_days = {"urgent": 0.15, "normal": 1.5, "how_to": 0.1}[cls]
    if rng.random() < 0.02:
        wait_days = 60.0  # forgotten for a while
    started = created + timedelta(days=rng.expovariate(1 / wait_days))
    ticket = _item(
        created,
        started,
        started + timedelta(days=rng.expovariate(1 / work_days)),
        "ticket",
        cls,
        customer,
    )
    ticket["title"] = f"{rng.choice(TICKET_TITLES[cls])} {customer}"
    lead = rng.random() < 0.7
    ticket["assignee"] = (
        "Support Desk"
        if cls == "how_to"
        else ("Lead Engineer" if lead else rng.choice(PEOPLE[1:3]))
    )
    return ticket


# ---------------------------------------------------------------- the generic CSV
def iso(t: datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def generic_csv(items: list[Item]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "id",
            "kind",
            "class",
            "customer",
            "created",
            "started",
            "done",
            "assignee",
            "blocked_hours",
        ]
    )
    for i in items:
        if i["kind"] == "epic":
            continue
        hours = "" if i["blocked_hours"] is None else f"{i['blocked_hours']:g}"
        writer.writerow(
            [
                i["key"],
                i["kind"],
                i["cls"] or "",
                i["customer"] or "",
                iso(i["created"]),
                iso(i["started"]),
                iso(i["done"]),
                i["assignee"] or "",
                hours,
            ]
        )
    return out.getvalue()


# ---------------------------------------------------------------- Jira
JIRA_COLUMNS = [
    "Summary",
    "Issue key",
    "Issue id",
    "Issue Type",
    "Status",
    "Priority",
    "Resolution",
    "Assignee",
    "Reporter",
    "Created",
    "Updated",
    "Resolved",
    "Labels",
    "Labels",
    "Labels",
    "Status Category",
    "Status Category Changed",
]
PRIORITY = {"urgent": "Highest", "normal": "Medium", "how_to": "Low", None: "Medium"}


def jira_date(t: datetime | None) -> str:
    """Jira's default CSV date format, e.g. ``05/Dec/26 3:21 PM``."""
    if t is None:
        return ""
    return f"{t:%d/%b/%y} {t.hour % 12 or 12}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"


def jira_csv(items: list[Item], seed: int = SEED) -> str:
    rng = random.Random(seed + 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(JIRA_COLUMNS)
    for n, i in enumerate(items):
        kind = i["kind"]
        issue_type = {"epic": "Epic", "onboarding": "Story", "ask": "Task"}.get(kind)
        if kind == "ticket":
            issue_type = "Bug" if i["cls"] == "urgent" and rng.random() < 0.5 else "Support"
        labels = [f"customer:{i['customer']}"] if i["customer"] else []
        labels += ["onboarding"] if kind in ("epic", "onboarding") else []
        labels += ["how-to"] if i["cls"] == "how_to" else []
        status, category = "To Do", "To Do"
        changed = i["created"]
        if i["done"] is not None:
            status, category, changed = "Done", "Done", i["done"]
        elif i.get("started") is not None:
            status, category, changed = "In Progress", "In Progress", i["started"]
        updated = max(t for t in (i["created"], i.get("started"), i["done"]) if t is not None)
        writer.writerow(
            [
                i["title"],
                i["key"],
                10000 + n,
                issue_type,
                status,
                PRIORITY[i["cls"]],
                "Done" if i["done"] else "",
                i["assignee"] or "",
                "Service Desk",
                jira_date(i["created"]),
                jira_date(updated),
                jira_date(i["done"]),
                *(labels + ["", "", ""])[:3],
                category,
                jira_date(changed),
            ]
        )
    return out.getvalue()


JIRA_MAP = """\
# How the sample Jira export maps to flowsim's work items (see docs/data.md).
format: jira
kinds:                      # the first rule an issue matches gives its kind
  - kind: skip              # an Epic is a whole onboarding; its Stories are the tasks
    issue_types: [Epic]
  - kind: ticket
    issue_types: [Bug, Support]
  - kind: onboarding
    labels: [onboarding]
otherwise: ask              # any other issue is an ask to the lead
classes:                    # a ticket's class: a label first, then its priority
  labels:
    how-to: how_to
  priority:
    Highest: urgent
    High: urgent
    Medium: normal
    Low: normal
  default: normal
customer:
  label_prefix: "customer:"
jira:
  started_statuses: [In Progress]
  timezone: UTC
"""


# ---------------------------------------------------------------- Trello
TRELLO_MAP = """\
# How the sample Trello board maps to flowsim's work items (see docs/data.md).
format: trello
kinds:
  - kind: ticket
    labels: [ticket]
  - kind: onboarding
    labels: [onboarding]
  - kind: ask
    labels: [ask]
otherwise: error            # a card with none of these labels is reported
classes:
  labels:
    urgent: urgent
    normal: normal
    how-to: how_to
customer:
  custom_field: Customer    # a drop-down custom field on the cards
trello:
  started_lists: [Doing, Review]
  done_lists: [Done]
"""
LISTS = ("Inbox", "Doing", "Review", "Done")
TRELLO_TIME = "%Y-%m-%dT%H:%M:%S.000Z"


class _Ids:
    """Trello ids: 8 hex digits of the creation time, then 16 random ones."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self, t: datetime) -> str:
        return f"{int(t.timestamp()):08x}{self.rng.getrandbits(64):016x}"


def on_board(items: list[Item]) -> list[Item]:
    """The items the board holds: created in its eight weeks, or older and still open."""
    return [
        i
        for i in items
        if i["kind"] != "epic" and (i["created"] >= BOARD_FROM or i["done"] is None)
    ]


def trello_board(items: list[Item], seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed + 2)
    new_id = _Ids(rng)
    made = BOARD_FROM - timedelta(days=400)
    board_id = new_id(made)
    lists = {name: new_id(made) for name in LISTS}
    label_names = ("ticket", "onboarding", "ask", "urgent", "normal", "how-to")
    labels = {name: new_id(made) for name in label_names}
    members = {name: new_id(made) for name in PEOPLE}
    field_id = new_id(made)
    customers = sorted({*CUSTOMERS, *(name for name, _ in ONBOARDINGS)})
    options = {name: new_id(made) for name in customers}
    cards: list[dict[str, Any]] = []
    actions: list[tuple[datetime, dict[str, Any]]] = []
    cancelled = [
        {
            "kind": "ask",
            "cls": None,
            "customer": None,
            "title": f"Duplicate request {n}",
            "created": BOARD_FROM + timedelta(days=3 + 11 * n, hours=10),
            "started": None,
            "done": None,
            "assignee": None,
            "cancelled": True,
        }
        for n in range(3)
    ]
    for i in [*on_board(items), *cancelled]:
        cid = new_id(i["created"])
        ref = {"id": cid, "name": i["title"], "idShort": len(cards) + 1}
        moves = [(i["created"], None, "Inbox")]
        if i["started"] is not None:
            moves.append((i["started"], "Inbox", "Doing"))
            if i["kind"] == "onboarding" and i["done"] is not None:
                review = i["started"] + (i["done"] - i["started"]) / 2
                moves.append((_minute(review), "Doing", "Review"))
        if i["done"] is not None:
            moves.append((i["done"], moves[-1][2], "Done"))
        for when, before, after in moves:
            action: dict[str, Any] = {
                "id": new_id(when),
                "type": "updateCard",
                "date": when.strftime(TRELLO_TIME),
            }
            if before is None:
                action.update(
                    type="createCard",
                    data={"card": ref, "list": {"id": lists[after], "name": after}},
                )
            else:
                action["data"] = {
                    "card": ref,
                    "listBefore": {"id": lists[before], "name": before},
                    "listAfter": {"id": lists[after], "name": after},
                }
            actions.append((when, action))
        last = moves[-1][0]
        archived = i.get("cancelled", False) or (
            i["done"] is not None and EXPORTED - i["done"] > timedelta(weeks=3)
        )
        if archived:
            last = max(last, i["created"]) + timedelta(days=7 if i.get("cancelled") else 21)
        kind_labels = [i["kind"]] + (
            [{"how_to": "how-to"}.get(i["cls"], i["cls"])] if i["cls"] else []
        )
        card: dict[str, Any] = {
            "id": cid,
            "idShort": ref["idShort"],
            "name": i["title"],
            "idList": lists[moves[-1][2]],
            "idLabels": [labels[x] for x in kind_labels],
            "idMembers": [members[i["assignee"]]] if i["assignee"] else [],
            "closed": archived,
            "dateLastActivity": last.strftime(TRELLO_TIME),
        }
        if i["customer"]:
            card["customFieldItems"] = [
                {"idCustomField": field_id, "idValue": options[i["customer"]]}
            ]
        cards.append(card)
    actions.sort(key=lambda a: (a[0], a[1]["id"]), reverse=True)  # newest first, as Trello
    return {
        "id": board_id,
        "name": "Operations",
        "lists": [
            {"id": lists[n], "name": n, "closed": False, "pos": 1024 * (k + 1)}
            for k, n in enumerate(LISTS)
        ],
        "labels": [{"id": labels[n], "name": n, "color": "blue"} for n in label_names],
        "members": [
            {"id": members[n], "fullName": n, "username": n.lower().replace(" ", "")}
            for n in PEOPLE
        ],
        "customFields": [
            {
                "id": field_id,
                "name": "Customer",
                "type": "list",
                "options": [{"id": options[c], "value": {"text": c}} for c in customers],
            }
        ],
        "cards": cards,
        "actions": [a for _, a in actions[:MAX_ACTIONS]],
    }


# ---------------------------------------------------------------- all of it
def write_samples(out: Path, seed: int = SEED) -> list[Path]:
    """Write the five sample files into ``out``; return their paths."""
    items = company(seed)
    board = json.dumps(trello_board(items, seed), separators=(",", ":")) + "\n"
    files = {
        "tracker.csv": generic_csv(items),
        "jira_export.csv": jira_csv(items, seed),
        "jira_map.yaml": JIRA_MAP,
        "trello_board.json": board,
        "trello_map.yaml": TRELLO_MAP,
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8", newline="\n")
    return [out / name for name in files]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    for path in write_samples(args.out, args.seed):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
