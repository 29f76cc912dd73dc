"""A study's report: one self-contained HTML file (charts embedded) plus each chart as PNG."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import yaml
from matplotlib.figure import Figure

from flowsim.model.catalogue import describe_metric
from flowsim.reporting.charts import (
    best_reason,
    figure_scenario,
    scenario_role,
    study_figures,
)
from flowsim.reporting.tables import (
    HORIZON_FOOTNOTE,
    HORIZON_MARK,
    UNSTABLE_MARK,
    Stability,
    ci_text,
    diff_ci_text,
    format_value,
    horizon_mark,
    scenario_stability,
    signed,
)
from flowsim.storage import StudyResults, read_study, safe_name, write_bytes, write_text

# What each chart shows, under its heading in the report; a chart of one scenario also
# names its scenario and its role (see figure_caption).
CAPTIONS = {
    "sweep_curve": "The swept policy against go-lives and lead time, with 95% CI bands.",
    "forest": "Each scenario against the reference: paired differences with 95% CIs.",
    "lead_week": "Where the lead's week goes, by activity (hours per week, window means).",
    "contractors": "Contractors' and engineers' time: working, blocked on the lead, idle.",
    "arr": "Annual recurring revenue over time: mean and 95% CI across replications.",
    "health": "Customer health mix over time, and customers lost to churn.",
    "cfd_onboarding": "Cumulative flow of customers through onboarding.",
    "cfd_tickets": "Cumulative flow of support tickets.",
    "lead_time_scatter": "Each go-live: when it happened and how long onboarding took.",
    "throughput": "Go-lives and tickets closed per week, and work in progress over time.",
    "ageing_wip": "Onboardings still open at the end, by age, against past lead times.",
    "warmup": "The warm-up chosen by MSER-5 on a pilot run.",
}

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0 1.4rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.ref td { font-weight: 600; } td.verdict { text-align: left; color: #555; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; } h3.group { margin-top: 2.2rem; }
details { margin: 0.3rem 0; } pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; }
nav a { margin-right: 0.8rem; }
.unstable { color: #b71c1c; } .warn { color: #b71c1c; font-weight: 600; }
p.note { color: #555; font-size: 0.9rem; }
"""

_UNSTABLE_TITLE = "open work kept growing in some replications: see Stability"
_HORIZON_TITLE = "presumes a steady state: with open work still growing, depends on the horizon"


def figure_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def metric_table(
    study: StudyResults, metric: str, settled: dict[str, Stability] | None = None
) -> str:
    """One metric: each scenario's mean and CI, and its paired difference from the reference.

    A scenario with an unstable replication (in ``settled``) has its name marked
    :data:`~flowsim.reporting.tables.UNSTABLE_MARK`, and its mean
    :data:`~flowsim.reporting.tables.HORIZON_MARK` if the metric presumes a steady state.
    """
    settled = settled or {}
    meaning, unit = describe_metric(metric)
    scen = study.scenarios[study.scenarios["metric"] == metric].set_index("scenario")
    diff = study.differences[study.differences["metric"] == metric].set_index("scenario")
    rows = []
    for name in study.names:
        if name not in scen.index:
            continue
        row = scen.loc[name]
        s = settled.get(name)
        unstable = s is not None and s.mostly_unstable
        label = html.escape(name)
        if unstable:
            label += f' <span class="unstable" title="{_UNSTABLE_TITLE}">{UNSTABLE_MARK}</span>'
        mean = format_value(row["mean"], unit)
        if horizon_mark(metric, row["mean"], unstable):
            mean += f'<span class="unstable" title="{_HORIZON_TITLE}">{HORIZON_MARK}</span>'
        cells = [label, mean, ci_text(row, unit)]
        if name == study.reference:
            cells += ["reference", "", ""]
            css = ' class="ref"'
        elif name in diff.index:
            d = diff.loc[name]
            cells += [
                signed(d["diff"], unit),
                diff_ci_text(d, unit),
                html.escape(str(d["verdict"])),
            ]
            css = ""
        else:
            cells += ["", "", ""]
            css = ""
        tds = "".join(
            f'<td class="verdict">{c}</td>' if i == 5 else f"<td>{c}</td>"
            for i, c in enumerate(cells)
        )
        rows.append(f"<tr{css}>{tds}</tr>")
    unit_text = f" ({html.escape(unit)})" if unit and unit != "share" else ""
    head = (
        "<tr><th>scenario</th><th>mean</th><th>95% CI</th>"
        f"<th>vs {html.escape(study.reference)}</th><th>95% CI (paired)</th><th></th></tr>"
    )
    return (
        f"<h3><code>{html.escape(metric)}</code>: {html.escape(meaning)}{unit_text}</h3>"
        f"<table>{head}{''.join(rows)}</table>"
    )


def warmup_html(manifest: dict[str, object]) -> str:
    """The warm-up as the study chose or checked it, and its warning, if any."""
    text = str(manifest.get("warmup", "")) or "not recorded"
    if not text.startswith("warm-up"):
        text = f"warm-up: {text}"
    out = f"<p>{html.escape(text)}.</p>"
    check = manifest.get("warmup_check")
    warning = check.get("warning") if isinstance(check, dict) else None
    if warning:
        out += f'<p class="warn">{html.escape(str(warning))}.</p>'
    return out


def stability_html(study: StudyResults, settled: dict[str, Stability]) -> str:
    """The Stability section: each scenario's unstable share and open-work trend, and the
    warm-up."""
    intro = (
        "<p>A replication is <em>unstable</em> when its open work (items waiting, in hand "
        "or forgotten) grew over the window by more than a quarter of its mean level, with "
        "a 95% interval above zero. It has no steady state: its levels and its waiting and "
        f"lead times (marked {HORIZON_MARK} in the tables, in scenarios marked "
        f"{UNSTABLE_MARK}) depend on how long it ran. The trend is the slope of the daily "
        "count of open work over the window (batch means), averaged over replications.</p>"
    )
    if not settled:
        table = "<p>These results hold no stability verdict (written before flowsim kept one).</p>"
    else:
        rows = []
        for name in study.names:
            s = settled.get(name)
            if s is None:
                continue
            css = ' class="unstable"' if s.mostly_unstable else ""
            label = html.escape(name) + (f" {UNSTABLE_MARK}" if s.mostly_unstable else "")
            trend, _, ci = s.growth(sign=True).partition(" ")
            rows.append(
                f"<tr{css}><td>{label}</td><td>{s.unstable} of {s.replications}</td>"
                f"<td>{format_value(s.share, 'share')}</td><td>{trend}</td><td>{ci}</td></tr>"
            )
        head = (
            "<tr><th>scenario</th><th>unstable replications</th><th>share</th>"
            "<th>open work trend (items/week)</th><th>95% CI</th></tr>"
        )
        table = f"<table>{head}{''.join(rows)}</table>"
    return f"{intro}{table}<h3>Warm-up</h3>{warmup_html(study.manifest)}"


def manifest_html(study: StudyResults) -> str:
    m = study.manifest
    env = m.get("environment", {})
    facts = [
        ("study", m.get("study", "")),
        ("command", m.get("command", "")),
        ("root seed", m.get("seed", "")),
        ("replications per scenario", m.get("replications", "")),
        ("reference scenario", m.get("reference", "")),
        ("warm-up", m.get("warmup", "")),
        ("flowsim version", m.get("flowsim_version", "")),
        ("created", m.get("created", "")),
        ("wall time", f"{m.get('wall_time_seconds', '')} s"),
        (
            "python / numpy / simpy",
            " / ".join(str(env.get(k, "")) for k in ("python", "numpy", "simpy")),
        ),
    ]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in facts
    )
    configs = "".join(
        f"<details><summary><code>{html.escape(s['name'])}</code> (config hash "
        f"{html.escape(s['config_hash'][:12])})</summary><pre>"
        f"{html.escape(yaml.safe_dump(s['resolved_config'], sort_keys=False))}</pre></details>"
        for s in m.get("scenarios", [])
    )
    return f"<table>{rows}</table><h3>Resolved configs</h3>{configs}"


def _scenario_text(study: StudyResults, scenario: str) -> str:
    """``<code>wip[limit=4]</code> (best: highest go_lives_per_quarter)``, as HTML."""
    role = scenario_role(study, scenario)
    label = f"<code>{html.escape(scenario)}</code>"
    if role == "reference":
        return f"{label} (reference)"
    return f"{label} (best: {html.escape(role)})" if role else label


def figure_caption(study: StudyResults, key: str) -> str:
    """What a chart of :func:`~flowsim.reporting.charts.study_figures` shows, as HTML,
    naming scenarios as the study does (``wip[limit=4]``, never the file name's tag)."""
    chart = key.partition("__")[0]
    text = html.escape(CAPTIONS.get(chart, ""))
    scenario = figure_scenario(study, key)
    if scenario is not None:
        return f"{text} Scenario: {_scenario_text(study, scenario)}."
    reference = f"<code>{html.escape(study.reference)}</code>"
    if chart == "forest":
        text = text.replace("the reference:", f"the reference ({reference}):")
    if chart == "arr" and len(study.names) > 3:
        stand_out = ", ".join(
            _scenario_text(study, n) for n in study.names if scenario_role(study, n)
        )
        text += (
            f" Drawn thick, with their bands: {stand_out}; the other scenarios thin. "
            "Each line is named at its right end."
        )
    return text


def _group_heading(study: StudyResults, key: str, scenario: str | None) -> str:
    """The heading over a run of charts: every scenario, one scenario, or the warm-up."""
    if scenario is not None:
        heading = f'<h3 class="group">Scenario {_scenario_text(study, scenario)}</h3>'
        role = scenario_role(study, scenario)
        if role and role != "reference":
            heading += f'<p class="note">{html.escape(best_reason(study))}</p>'
        return heading
    if key == "warmup":
        return '<h3 class="group">The warm-up</h3>'
    return '<h3 class="group">All scenarios</h3>'


def write_report(folder: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Write ``report.html`` (or ``out``) and ``figures/*.png`` for a study's results folder.

    The HTML file is self-contained: every chart is embedded as a PNG, so it can be
    mailed or opened anywhere. Returns the path of the HTML file.
    """
    study = read_study(folder)
    target = Path(out) if out is not None else study.folder / "report.html"
    figures = study_figures(study)
    sections = []
    group: str | None = ""
    for name, fig in figures.items():
        png = figure_png(fig)
        write_bytes(study.folder / "figures" / f"{safe_name(name)}.png", png)
        data = base64.b64encode(png).decode("ascii")
        scenario = figure_scenario(study, name)
        if scenario != group:
            sections.append(_group_heading(study, name, scenario))
            group = scenario
        sections.append(
            f'<figure id="{html.escape(name)}"><img alt="{html.escape(name)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{figure_caption(study, name)}'
            "</figcaption></figure>"
        )
    title = html.escape(str(study.manifest.get("study", study.folder.name)))
    description = html.escape(str(study.manifest.get("description", "")))
    settled = scenario_stability(study.scenarios)
    tables = "".join(metric_table(study, m, settled) for m in study.metrics)
    if HORIZON_MARK in tables:
        tables += f'<p class="note">{html.escape(HORIZON_FOOTNOTE)}.</p>'
    n = study.manifest.get("replications", "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - flowsim report</title>
<style>{_CSS}</style></head><body>
<h1>{title}</h1><p class="sub">{description}</p>
<nav><a href="#table">Results</a><a href="#stability">Stability</a><a href="#charts">Charts</a>
<a href="#manifest">Manifest</a></nav>
<h2 id="table">Results</h2>
<p>Means over {html.escape(str(n))} replications per scenario with 95% confidence intervals;
differences from <code>{html.escape(study.reference)}</code> are paired by replication
(common random numbers). "CI too wide to call" means the interval of the difference
includes zero.</p>
{tables}
<h2 id="stability">Stability</h2>
{stability_html(study, settled)}
<h2 id="charts">Charts</h2>
{"".join(sections)}
<h2 id="manifest">Manifest</h2>
{manifest_html(study)}
</body></html>
"""
    write_text(target, page)
    return target
