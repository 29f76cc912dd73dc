"""``flowsim report``: a study's HTML report and charts, or the report on real flow data."""

from __future__ import annotations

from pathlib import Path

import click

from flowsim.cli.common import exit_on_config_error, fail


@click.command("report")
@click.argument("folder", type=click.Path(), metavar="RESULTS_DIR|DATA")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE.html",
    help="Where to write the report (default: RESULTS_DIR/report.html, or "
    "DATA_report.html beside DATA).",
)
@click.option("--markdown", is_flag=True, help="Print the study's table in Markdown instead.")
@click.option("--metric", "metrics", multiple=True, help="With --markdown: a metric to show.")
@click.option("--vs", default=None, help="With --markdown: paired differences from this scenario.")
def report_command(
    folder: str, out: str | None, markdown: bool, metrics: tuple[str, ...], vs: str | None
) -> None:
    """Write a study's HTML report (charts embedded) and its charts as PNG files; or,
    for a table of work items from `flowsim import` (DATA.parquet or .csv), the
    report on that real flow: cumulative flow, cycle times (Kaplan-Meier, open items
    censored), throughput and ageing work."""
    if Path(folder).is_file() and Path(folder).suffix.lower() in (".parquet", ".csv"):
        _data_report(folder, out)
        return
    if not (Path(folder) / "manifest.json").is_file():
        fail(f"{folder} is not a flowsim results folder (no manifest.json)")
    if markdown:
        from flowsim.reporting.markdown import study_markdown

        try:
            click.echo(study_markdown(folder, list(metrics), vs))
        except (OSError, ValueError) as exc:
            fail(str(exc))
        return
    from flowsim.reporting.html import write_report  # matplotlib: only when needed

    try:
        path = write_report(folder, out)
    except (OSError, ValueError) as exc:
        fail(f"cannot write the report for {folder}: {exc}")
    click.echo(f"wrote {path} and {Path(folder) / 'figures'}/")


def _data_report(data: str, out: str | None) -> None:
    from flowsim.reporting.data_report import (
        data_table,
        format_data_table,
        read_items,
        write_data_report,
    )

    with exit_on_config_error():  # a file that is not a table of work items
        try:
            click.echo(format_data_table(data_table(read_items(data))))
            path = write_data_report(data, out)
        except (OSError, ValueError) as exc:
            fail(f"cannot write the report for {data}: {exc}")
    click.echo(f"wrote {path} and {path.parent / (Path(data).stem + '_figures')}/")
