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
from flowsim.reporting.charts import study_figures
from flowsim.reporting.tables import ci_text, diff_ci_text, format_value, signed
from flowsim.storage import StudyResults, read_study, safe_name, write_bytes, write_text

# What each chart shows, under its heading in the report.
CAPTIONS = {
    "sweep_curve": "The swept policy against go-lives and lead time, with 95% CI bands.",
    "forest": "Each scenario against the reference: paired differences with 95% CIs.",
    "lead_week": "Where the lead's week goes, by activity (hours per week, window means).",
    "contractors": "Contractors' and engineers' time: working, blocked on the lead, idle.",
    "arr": "Annual recurring revenue over time: mean and 95% CI across replications.",
    "health": "Customer health mix over time, and customers lost to churn.",
    "cfd_onboarding": "Cumulative flow of customers through onboarding (reference scenario).",
    "cfd_tickets": "Cumulative flow of support tickets (reference scenario).",
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
figcaption { color: #555; font-size: 0.9rem; }
details { margin: 0.3rem 0; } pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; }
nav a { margin-right: 0.8rem; }
"""


def figure_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def metric_table(study: StudyResults, metric: str) -> str:
    """One metric: each scenario's mean and CI, and its paired difference from the reference."""
    meaning, unit = describe_metric(metric)
    scen = study.scenarios[study.scenarios["metric"] == metric].set_index("scenario")
    diff = study.differences[study.differences["metric"] == metric].set_index("scenario")
    rows = []
    for name in study.names:
        if name not in scen.index:
            continue
        row = scen.loc[name]
        cells = [html.escape(name), format_value(row["mean"], unit), ci_text(row, unit)]
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


def write_report(folder: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Write ``report.html`` (or ``out``) and ``figures/*.png`` for a study's results folder.

    The HTML file is self-contained: every chart is embedded as a PNG, so it can be
    mailed or opened anywhere. Returns the path of the HTML file.
    """
    study = read_study(folder)
    target = Path(out) if out is not None else study.folder / "report.html"
    figures = study_figures(study)
    sections = []
    for name, fig in figures.items():
        png = figure_png(fig)
        write_bytes(study.folder / "figures" / f"{safe_name(name)}.png", png)
        data = base64.b64encode(png).decode("ascii")
        base, _, scenario = name.partition("__")
        caption = CAPTIONS.get(base, "")
        if scenario:
            caption = caption.replace(" (reference scenario)", "").rstrip(".")
            caption += f" (the scenario with the most go-lives: {scenario})."
        caption = html.escape(caption)
        sections.append(
            f'<figure id="{html.escape(name)}"><img alt="{html.escape(name)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{caption}</figcaption></figure>'
        )
    title = html.escape(str(study.manifest.get("study", study.folder.name)))
    description = html.escape(str(study.manifest.get("description", "")))
    tables = "".join(metric_table(study, m) for m in study.metrics)
    n = study.manifest.get("replications", "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - flowsim report</title>
<style>{_CSS}</style></head><body>
<h1>{title}</h1><p class="sub">{description}</p>
<nav><a href="#table">Results</a><a href="#charts">Charts</a><a href="#manifest">Manifest</a></nav>
<h2 id="table">Results</h2>
<p>Means over {html.escape(str(n))} replications per scenario with 95% confidence intervals;
differences from <code>{html.escape(study.reference)}</code> are paired by replication
(common random numbers). "CI too wide to call" means the interval of the difference
includes zero.</p>
{tables}
<h2 id="charts">Charts</h2>
{"".join(sections)}
<h2 id="manifest">Manifest</h2>
{manifest_html(study)}
</body></html>
"""
    write_text(target, page)
    return target
