"""Charts of a study's results folder (see :func:`flowsim.storage.read_study`).

Every chart is a function of a :class:`~flowsim.storage.StudyResults` that returns a
:class:`matplotlib.figure.Figure` (a :class:`ChartFigure`, which also shows itself
as a PNG in Jupyter).  Figures are built directly, never through ``pyplot``: no
global state, no interactive backend, nothing to close; ``fig.savefig(path)``
renders with Agg.  Each scenario keeps one colour in every chart
(:func:`scenario_colours`), time axes are in weeks (5 working days), and every
quantity computed from replications is a mean over them (with a Student-t 95%
interval where a band is drawn).

Charts of one scenario default to the study's reference scenario; a report draws them
for the reference and for the scenario that does best on the study's first metric
(:func:`best_scenario`), or for every scenario in a study of at most four, and each
names its scenario and that role (:func:`scenario_role`) in its title.  A chart that does
not apply to a study (no sweep, no MSER-5 pilot, no daily series) raises
:class:`NotApplicable`, a ``ValueError``; :func:`study_figures` skips those.

The charts come in families, one module each: :mod:`.flow` (cumulative flow, lead
times, throughput, ageing work in progress), :mod:`.capacity` (the lead's week,
contractors' time), :mod:`.customers` (health mix, ARR), :mod:`.comparison` (the
forest plot), :mod:`.sweep` and :mod:`.warmup`; :mod:`.base` holds what they share,
and :mod:`.featured` which scenarios a report draws on their own.
"""

from flowsim.reporting.charts.base import ChartFigure, NotApplicable, scenario_colours
from flowsim.reporting.charts.capacity import (
    ACTIVITY_COLOURS,
    ACTIVITY_LABELS,
    contractor_time,
    lead_week,
)
from flowsim.reporting.charts.comparison import forest_plot
from flowsim.reporting.charts.customers import arr_over_time, health_mix
from flowsim.reporting.charts.featured import scenario_role
from flowsim.reporting.charts.flow import (
    ageing_wip,
    cumulative_flow,
    lead_time_scatter,
    throughput_run_chart,
)
from flowsim.reporting.charts.report import (
    best_reason,
    best_scenario,
    figure_scenario,
    scenario_tag,
    study_figures,
)
from flowsim.reporting.charts.sweep import sweep_curve
from flowsim.reporting.charts.warmup import warmup_plot

__all__ = [
    "ACTIVITY_COLOURS",
    "ACTIVITY_LABELS",
    "ChartFigure",
    "NotApplicable",
    "ageing_wip",
    "arr_over_time",
    "best_reason",
    "best_scenario",
    "contractor_time",
    "figure_scenario",
    "cumulative_flow",
    "forest_plot",
    "health_mix",
    "lead_time_scatter",
    "lead_week",
    "scenario_colours",
    "scenario_role",
    "scenario_tag",
    "study_figures",
    "sweep_curve",
    "throughput_run_chart",
    "warmup_plot",
]
