"""The report on a tracker's own data: the flow of the work items ``flowsim import``
wrote, before any modelling.

:func:`write_data_report` reads the table (Parquet, or the CSV ``--out x.csv`` writes)
and writes one self-contained HTML file (the charts embedded, in the look of a study's
report) and each chart as a PNG.  :func:`data_table` is its table, one row per kind:
counts, rates per week, and cycle-time percentiles by Kaplan-Meier with the open items
censored, next to the naive percentiles of the done items alone.
"""

from __future__ import annotations

import base64
import html
import math
import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from flowsim.data.items import read_items
from flowsim.reporting.charts.tracker import (
    DAY,
    KM_NOTE,
    PERCENTILES,
    clock_of,
    cycle_stats,
    cycle_times,
    data_end,
    items_ageing_wip,
    items_cumulative_flow,
    items_cycle_time_scatter,
    items_throughput,
    kinds_of,
    weekly_counts,
)
from flowsim.reporting.html import _CSS, figure_png
from flowsim.storage import write_bytes, write_text

NAIVE = (50.0, 85.0)
"""The naive percentiles the table shows next to the Kaplan-Meier ones."""
CLOCKS = {"start": "start to done", "created": "created to done"}

CAPTIONS = {
    "cumulative_flow": (
        "Cumulative flow by kind: per day, the items done (bottom), in progress (started, not "
        "done) and waiting (created, not started); the top edge is the cumulative arrivals. "
        "The height of a band is the work in that state; a widening band is work piling up."
    ),
    "cycle_time": (
        "Each done item at its done date against its cycle time in calendar days: from its "
        "start where the tracker knows it (filled dots), else from its creation (hollow). "
        f"The lines are the 50th, 85th and 95th percentiles ({KM_NOTE} at their age on the "
        "data's end)."
    ),
    "throughput": (
        "Items done per calendar week (Monday to Sunday, UTC), by kind; the dashed line is "
        "the median week."
    ),
    "ageing_wip": (
        "Each open item's age at the data's end, by kind and stage, against the Kaplan-Meier "
        "percentiles of the kind's cycle times: an item above the 85% line is already older "
        "than 85% of its kind were when they finished."
    ),
}

_EXTRA_CSS = "span.ci { color: #777; font-size: 0.8rem; } td.clock { text-align: left; }"


# ---------------------------------------------------------------- the table
def data_table(items: pd.DataFrame, end: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """Flow by kind, and a last row ``all`` (counts and rates only).

    Columns: ``items``, ``done``, ``open``; ``done_per_week`` and ``arrivals_per_week``
    (means over the calendar weeks of the data, :func:`~.tracker.weekly_counts`);
    ``km_p50``, ``km_p85``, ``km_p95`` (days, Kaplan-Meier with the open items
    censored, ``inf`` if not reached) with ``_low`` and ``_high`` (95% interval);
    ``naive_p50``, ``naive_p85`` (the done items alone); ``known_start`` (share of items
    with a start); ``clock`` (``start`` or ``created``: where cycle times start);
    ``censored`` (open items in the estimate) and ``longest`` (days, the longest time
    observed); ``lead_p85`` (days from creation to done, Kaplan-Meier with every open
    item censored, waiting ones included) and its ``lead_longest``.
    """
    stop = data_end(items, end)
    done_weekly = weekly_counts(items, "done", stop)
    weeks = max(len(done_weekly), 1)
    times = cycle_times(items, stop)
    clocks = clock_of(items)
    rows: dict[str, dict[str, object]] = {}
    for kind in [*kinds_of(items), "all"]:
        mine = items if kind == "all" else items[items["kind"] == kind]
        n_done = int(mine["done"].notna().sum())
        row: dict[str, object] = {
            "items": len(mine),
            "done": n_done,
            "open": len(mine) - n_done,
            "done_per_week": n_done / weeks,
            "arrivals_per_week": len(mine) / weeks,
            "known_start": float(mine["started"].notna().mean()) if len(mine) else math.nan,
            "clock": clocks.get(kind, ""),
        }
        if kind != "all":
            kept = times[(times["kind"] == kind) & times["estimate"]]
            stats = cycle_stats(kept["days"], kept["done"])
            for q in PERCENTILES:
                row[f"km_p{q:g}"] = stats.km[q]
                row[f"km_p{q:g}_low"] = stats.low[q]
                row[f"km_p{q:g}_high"] = stats.high[q]
            for q in NAIVE:
                row[f"naive_p{q:g}"] = stats.naive[q]
            row["censored"], row["longest"] = stats.censored, stats.longest
            done = mine["done"].notna()
            lead = ((mine["done"].where(done, stop) - mine["created"]) / DAY).astype(float)
            lead_stats = cycle_stats(lead, done, (85,))
            row["lead_p85"], row["lead_longest"] = lead_stats.km[85.0], lead_stats.longest
        rows[kind] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "kind"
    return table


def _days(value: object, longest: object = math.nan) -> str:
    """A percentile in days as the table shows it: ``> 65`` if not reached."""
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return f"> {float(longest):.0f}"  # type: ignore[arg-type]
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


_TEXT_COLUMNS = [
    ("items", "items"),
    ("done", "done"),
    ("open", "open"),
    ("done/wk", "done_per_week"),
    ("p50", "km_p50"),
    ("p85", "km_p85"),
    ("p95", "km_p95"),
    ("naive p50", "naive_p50"),
    ("naive p85", "naive_p85"),
    ("lead p85", "lead_p85"),
    ("arrived/wk", "arrivals_per_week"),
    ("started", "known_start"),
    ("clock", "clock"),
]


def _cell(row: pd.Series, column: str) -> str:
    value = row.get(column, math.nan)
    if column in ("items", "done", "open"):
        return f"{int(value)}"
    if column.endswith("per_week"):
        return f"{value:.2f}"
    if column == "known_start":
        return "" if pd.isna(value) else f"{100 * value:.0f}%"
    if column == "clock":
        return CLOCKS.get(str(value), "")
    longest = row.get("lead_longest" if column == "lead_p85" else "longest", math.nan)
    return _days(value, longest)


def format_data_table(table: pd.DataFrame) -> str:
    """:func:`data_table` as text for a terminal: cycle times in days, p50/p85/p95 by
    Kaplan-Meier (open items censored), the naive ones of the done items alone."""
    heads = ["kind", *(h for h, _ in _TEXT_COLUMNS)]
    lines = [
        [str(kind), *(_cell(row, c) for _, c in _TEXT_COLUMNS)] for kind, row in table.iterrows()
    ]
    widths = [max(len(r[i]) for r in [heads, *lines]) for i in range(len(heads))]

    def join(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (
            c.rjust(w) if i < len(cells) - 2 else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells[1:], widths[1:], strict=True))
        )
        return "  ".join([first, *rest]).rstrip()

    return "\n".join(join(r) for r in [heads, *lines])


def table_html(table: pd.DataFrame) -> str:
    """:func:`data_table` as an HTML table, each Kaplan-Meier percentile with its 95%
    interval."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "kind",
            "items",
            "done",
            "open",
            "done per week",
            "cycle time p50",
            "p85",
            "p95",
            "naive p50",
            "naive p85",
            "lead time p85",
            "arrivals per week",
            "known start",
            "cycle time from",
        )
    )
    rows = []
    for kind, row in table.iterrows():
        longest = row.get("longest", math.nan)
        cells = [str(kind), *(_cell(row, c) for c in ("items", "done", "open", "done_per_week"))]
        spans = []
        for q in PERCENTILES:
            low, high = row.get(f"km_p{q:g}_low", math.nan), row.get(f"km_p{q:g}_high", math.nan)
            interval = "" if pd.isna(low) else f"[{_days(low, longest)}, {_days(high, longest)}]"
            cells.append(_cell(row, f"km_p{q:g}"))
            spans.append(interval)
        cells += [_cell(row, c) for c in ("naive_p50", "naive_p85", "lead_p85")]
        cells.append(_cell(row, "arrivals_per_week"))
        cells += [_cell(row, "known_start"), _cell(row, "clock")]
        tds = []
        for i, cell in enumerate(cells):
            text = html.escape(cell)
            if 5 <= i < 8 and spans[i - 5]:
                text += f' <span class="ci">{html.escape(spans[i - 5])}</span>'
            tds.append(
                f'<td class="clock">{text}</td>' if i == len(cells) - 1 else f"<td>{text}</td>"
            )
        rows.append(f"<tr>{''.join(tds)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


# ---------------------------------------------------------------- the report
def data_figures(items: pd.DataFrame, end: pd.Timestamp | str | None = None) -> dict[str, Figure]:
    """The report's four charts, keyed by the names of their PNG files."""
    return {
        "cumulative_flow": items_cumulative_flow(items, end),
        "cycle_time": items_cycle_time_scatter(items, end),
        "throughput": items_throughput(items, end),
        "ageing_wip": items_ageing_wip(items, end),
    }


def write_data_report(
    items_path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Write the HTML report on a table of work items, and its charts as PNG files.

    Parameters
    ----------
    items_path : str or os.PathLike
        The table ``flowsim import`` wrote (``DATA.parquet``, or ``.csv``).
    out : str or os.PathLike, optional
        The HTML file; default ``<DATA stem>_report.html`` beside the data.  The PNG
        files go to ``<DATA stem>_figures/`` beside the HTML file.

    Returns
    -------
    Path
        The HTML file: self-contained, every chart embedded.

    Raises
    ------
    DataError
        If the file is not a table of work items.
    """
    source = Path(items_path)
    items = read_items(source)
    target = Path(out) if out is not None else source.with_name(f"{source.stem}_report.html")
    folder = target.parent / f"{source.stem}_figures"
    end = data_end(items)
    sections = []
    for name, fig in data_figures(items, end).items():
        png = figure_png(fig)
        write_bytes(folder / f"{name}.png", png)
        data = base64.b64encode(png).decode("ascii")
        sections.append(
            f'<figure id="{name}"><img alt="{name}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(CAPTIONS[name])} ({html.escape(folder.name)}/{name}.png)"
            "</figcaption></figure>"
        )
    table = data_table(items, end)
    title = html.escape(f"Flow of {source.name}")
    if items.empty:
        span = "no work items"
    else:
        span = (
            f"{len(items)} work items created {items['created'].min():%Y-%m-%d} to "
            f"{items['created'].max():%Y-%m-%d}; the data's end, the latest time in it, "
            f"{end:%Y-%m-%d %H:%M} UTC"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - flowsim report</title>
<style>{_CSS}{_EXTRA_CSS}</style></head><body>
<h1>{title}</h1><p class="sub">{html.escape(span)}</p>
<nav><a href="#table">Flow by kind</a><a href="#charts">Charts</a></nav>
<h2 id="table">Flow by kind</h2>
{table_html(table)}
<p class="note">Cycle times in calendar days, from the start of work to done where the
tracker knows when work started, else from creation to done: a kind whose done items
mostly have no known start is measured from creation for every item (lead time), as
<em>cycle time from</em> says. Percentiles p50, p85 and p95 are Kaplan-Meier estimates
with a 95% interval in brackets: an open item is censored at its age so far at the
data's end (it is known to take at least that long); an item still waiting to start is
left out of a start-to-done estimate. "&gt; N" means the estimate does not reach that
percentile: too many items are still open, and it is longer than the longest time
observed, N days. The naive percentiles are those of the done items alone, which
ignore the open ones: where they are lower, old open work is being left out. The lead
time runs from creation to done for every item, by Kaplan-Meier with every open item
censored, waiting or not: it is what a customer waits. Rates
are means over the {len(weekly_counts(items, "done", end))} calendar weeks (Monday to
Sunday, UTC) from the first item created to the data's end; <em>known start</em> is
the share of items whose start the tracker records.</p>
<h2 id="charts">Charts</h2>
{"".join(sections)}
</body></html>
"""
    write_text(target, page)
    return target
