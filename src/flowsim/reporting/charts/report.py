"""Every chart that applies to a study, in report order."""

from __future__ import annotations

import re
from collections.abc import Callable

from matplotlib.figure import Figure

from flowsim.reporting.charts.base import NotApplicable
from flowsim.reporting.charts.capacity import contractor_time, lead_week
from flowsim.reporting.charts.comparison import forest_plot
from flowsim.reporting.charts.customers import arr_over_time, health_mix
from flowsim.reporting.charts.featured import _best, _better_sign, _featured
from flowsim.reporting.charts.flow import (
    ageing_wip,
    cumulative_flow,
    lead_time_scatter,
    throughput_run_chart,
)
from flowsim.reporting.charts.sweep import sweep_curve
from flowsim.reporting.charts.warmup import warmup_plot
from flowsim.storage import StudyResults

# The charts of one scenario, drawn for the reference (keyed by the chart's name) and
# for each other featured scenario (keyed ``<chart>__<scenario tag>``).
REFERENCE_ONLY = ("cfd_tickets",)
SINGLE_SCENARIO = ("health", "cfd_onboarding", "lead_time_scatter", "throughput", "ageing_wip")


def best_scenario(study: StudyResults) -> str | None:
    """The scenario that does best on the study's first metric, when it beats the
    reference: the one whose flow a reader of the report wants to see next to the
    reference's.

    The study's metrics are read in order, skipping those with no better direction
    (promises made, say): the first on which some scenario's mean over replications
    beats the reference's names the best, the scenario with the best mean on it (a
    tie is no win, so a scenario whose runs are the reference's is never chosen).
    ``None`` when no scenario beats the reference on any metric.  Charts name its role
    as, e.g., ``highest go_lives_per_quarter``
    (:func:`~flowsim.reporting.charts.featured.scenario_role`).
    """
    best = _best(study)
    return None if best is None else best.scenario


def best_reason(study: StudyResults) -> str:
    """Why the best scenario (:func:`best_scenario`) was chosen, in a sentence or two;
    empty when there is none."""
    best = _best(study)
    if best is None:
        return ""
    earlier = study.metrics[: study.metrics.index(best.metric)]
    beaten = [m for m in earlier if _better_sign(m)]
    undirected = [m for m in earlier if not _better_sign(m)]
    text = f"The best scenario: the {best.role} of all"
    text += "." if earlier else ", the study's first metric."
    if beaten:
        text += (
            f" No scenario beats the reference on {', '.join(beaten)}, so the best is "
            "taken on the next of the study's metrics on which one does."
        )
    if undirected:
        what = "has no better direction and is" if len(undirected) == 1 else "have none and are"
        text += f" ({', '.join(undirected)} {what} passed over.)"
    return text


def scenario_tag(name: str) -> str:
    """A scenario name as the tail of a figure's key: ``wip[limit=4]`` -> ``wip_limit_4``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def figure_scenario(study: StudyResults, key: str) -> str | None:
    """The scenario a single-scenario chart of :func:`study_figures` draws, by its key;
    ``None`` for a chart of every scenario (or an unknown key)."""
    chart, _, tag = key.partition("__")
    if tag:
        return next((n for n in study.names if scenario_tag(n) == tag), None)
    if chart in SINGLE_SCENARIO or chart in REFERENCE_ONLY:
        return study.reference
    return None


def study_figures(study: StudyResults) -> dict[str, Figure]:
    """Every chart that applies to a study, keyed by a short file-name-friendly name.

    Keys, in report order: ``sweep_curve`` (if the study has a sweep of at least 3
    values), ``forest``, ``lead_week``, ``contractors``, ``arr``, ``health``,
    ``cfd_onboarding``, ``cfd_tickets``, ``lead_time_scatter``, ``throughput``,
    ``ageing_wip`` (the single-scenario charts show the reference scenario); the
    same single-scenario charts (but the tickets' flow) for the best scenario (see
    :func:`best_scenario`), keyed ``<chart>__<scenario tag>`` (:func:`scenario_tag`),
    or, in a study of at most four scenarios, for every other scenario in study
    order; and ``warmup`` (if the warm-up was chosen by MSER-5).  Each
    single-scenario chart names its scenario and its role in its title;
    :func:`figure_scenario` gives it from the key.  A chart that does not apply
    (:class:`NotApplicable`) is left out; any other error propagates.

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
    for name in _featured(study)[1:]:
        charts += _single_scenario_charts(study, name)
    charts.append(("warmup", lambda: warmup_plot(study)))
    figures: dict[str, Figure] = {}
    for key, build in charts:
        try:
            figures[key] = build()
        except NotApplicable:
            continue
    return figures


def _single_scenario_charts(
    study: StudyResults, name: str
) -> list[tuple[str, Callable[[], Figure]]]:
    tag = "__" + scenario_tag(name)
    return [
        ("health" + tag, lambda: health_mix(study, name)),
        ("cfd_onboarding" + tag, lambda: cumulative_flow(study, "onboarding", name)),
        ("lead_time_scatter" + tag, lambda: lead_time_scatter(study, name)),
        ("throughput" + tag, lambda: throughput_run_chart(study, name)),
        ("ageing_wip" + tag, lambda: ageing_wip(study, name)),
    ]
