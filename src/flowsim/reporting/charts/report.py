"""Every chart that applies to a study, in report order."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from flowsim.reporting.charts.base import NotApplicable
from flowsim.reporting.charts.capacity import contractor_time, lead_week
from flowsim.reporting.charts.comparison import forest_plot
from flowsim.reporting.charts.customers import arr_over_time, health_mix
from flowsim.reporting.charts.flow import (
    ageing_wip,
    cumulative_flow,
    lead_time_scatter,
    throughput_run_chart,
)
from flowsim.reporting.charts.sweep import sweep_curve
from flowsim.reporting.charts.warmup import warmup_plot
from flowsim.storage import StudyResults


def best_scenario(study: StudyResults) -> str | None:
    """The scenario with the most go-lives per quarter (mean over replications), when
    it beats the reference: the one whose flow a reader of the report wants to see
    next to the reference's. ``None`` when the reference is best or nobody goes live."""
    if "go_lives_per_quarter" not in study.per_rep.columns:
        return None
    means = study.per_rep.groupby("scenario", sort=False)["go_lives_per_quarter"].mean()
    if means.empty or not means.max() > means.get(study.reference, -np.inf):
        return None
    return str(means.idxmax())


def study_figures(study: StudyResults) -> dict[str, Figure]:
    """Every chart that applies to a study, keyed by a short file-name-friendly name.

    Keys, in report order: ``sweep_curve`` (if the study has a sweep of at least 3
    values), ``forest``, ``lead_week``, ``contractors``, ``arr``, ``health``,
    ``cfd_onboarding``, ``cfd_tickets``, ``lead_time_scatter``, ``throughput``,
    ``ageing_wip`` (the single-scenario charts show the reference scenario); the
    same single-scenario charts for the scenario with the most go-lives per
    quarter, when that is not the reference, keyed ``<chart>__<scenario>`` (see
    :func:`best_scenario`); and ``warmup`` (if the warm-up was chosen by MSER-5).
    A chart that does not apply (:class:`NotApplicable`) is left out; any other
    error propagates.

    Parameters
    ----------
    study : StudyResults

    Returns
    -------
    dict of str to Figure

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> for name, fig in study_figures(study).items():  # doctest: +SKIP
    ...     fig.savefig(f"figures/{name}.png", dpi=110)
    """
    charts: list[tuple[str, Callable[[], Figure]]] = [
        ("sweep_curve", lambda: sweep_curve(study)),
        ("forest", lambda: forest_plot(study)),
        ("lead_week", lambda: lead_week(study)),
        ("contractors", lambda: contractor_time(study)),
        ("arr", lambda: arr_over_time(study)),
        ("health", lambda: health_mix(study)),
        ("cfd_onboarding", lambda: cumulative_flow(study, "onboarding")),
        ("cfd_tickets", lambda: cumulative_flow(study, "tickets")),
        ("lead_time_scatter", lambda: lead_time_scatter(study)),
        ("throughput", lambda: throughput_run_chart(study)),
        ("ageing_wip", lambda: ageing_wip(study)),
    ]
    best = best_scenario(study)
    if best is not None:
        tag = "__" + re.sub(r"[^A-Za-z0-9]+", "_", best).strip("_")
        charts += [
            ("health" + tag, lambda: health_mix(study, best)),
            ("cfd_onboarding" + tag, lambda: cumulative_flow(study, "onboarding", best)),
            ("lead_time_scatter" + tag, lambda: lead_time_scatter(study, best)),
            ("throughput" + tag, lambda: throughput_run_chart(study, best)),
            ("ageing_wip" + tag, lambda: ageing_wip(study, best)),
        ]
    charts.append(("warmup", lambda: warmup_plot(study)))
    figures: dict[str, Figure] = {}
    for key, build in charts:
        try:
            figures[key] = build()
        except NotApplicable:
            continue
    return figures
