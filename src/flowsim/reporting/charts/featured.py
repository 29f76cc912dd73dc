"""The scenarios a report draws on their own: the reference and the one that does best
on the study's first metric (or every scenario of a small study), and how charts name
their role."""

from __future__ import annotations

from dataclasses import dataclass

from flowsim.storage import StudyResults

# Which way each summary metric is better, for "the best scenario"; a metric not named
# here (promises made, the lead's utilisation, ...) has no better direction, except the
# times in days (lead times, ages, resolution times), where lower is better.
_HIGHER_IS_BETTER = frozenset(
    {
        "go_lives",
        "go_lives_per_quarter",
        "tickets_closed_per_week",
        "contractor_busy_share",
        "promises_kept",
        "promises_kept_share",
        "live_customers_at_horizon",
        "health_median_at_horizon",
        "arr_at_horizon",
        "cumulative_revenue",
        "net_revenue_retention",
    }
)
_LOWER_IS_BETTER = frozenset(
    {
        "tickets_abandoned",
        "tickets_open_at_horizon",
        "contractor_blocked_share",
        "lead_backlog_mean",
        "promises_broken",
        "items_forgotten",
        "defects",
        "churned",
        "churned_while_onboarding",
        "gave_up_onboarding",
        "lost_deals",
        "red_share_at_horizon",
        "team_cost",
        "interrupts_lapsed",
        "interrupts_downgraded",
        "open_work_trend_per_week",
        "unstable",
        "lead_switching_hours_per_week",
        "lead_escalations_hours_per_week",
        "lead_calls_hours_per_week",
    }
)


def _better_sign(metric: str) -> int:
    """+1 if more of ``metric`` is better, -1 if less is, 0 if neither is."""
    if metric in _HIGHER_IS_BETTER:
        return 1
    if metric in _LOWER_IS_BETTER or metric.endswith("_days"):
        return -1
    return 0


@dataclass(frozen=True)
class Best:
    """The scenario that does best on ``metric`` (``higher`` or ``lower`` is better)."""

    scenario: str
    metric: str
    higher: bool

    @property
    def role(self) -> str:
        """How a chart names its role, e.g. ``highest go_lives_per_quarter``."""
        return f"{'highest' if self.higher else 'lowest'} {self.metric}"


def _best(study: StudyResults) -> Best | None:
    """The scenario that does best on the study's first metric, other than the reference.

    The metrics are taken in the study's order, skipping those with no better direction
    (:func:`_better_sign`) and those on which no scenario's mean over replications beats
    the reference's (a tie, such as a scenario whose runs are the reference's, is no
    win): the first metric on which some scenario beats the reference names the best
    one, the scenario with the best mean.  ``None`` when no scenario beats the reference
    on any metric, or the study has one scenario.
    """
    per_rep = study.per_rep
    if "scenario" not in per_rep.columns or len(study.names) < 2:
        return None
    for metric in study.metrics:
        sign = _better_sign(metric)
        if not sign or metric not in per_rep.columns:
            continue
        means = per_rep.groupby("scenario", sort=False)[metric].mean().dropna()
        if study.reference not in means.index:
            continue
        score = (means * sign).drop(study.reference)
        reference = float(means[study.reference]) * sign
        tolerance = 1e-9 * max(1.0, abs(reference))
        winners = score[score > reference + tolerance]
        if not winners.empty:
            return Best(str(winners.idxmax()), metric, sign > 0)
    return None


FEW_SCENARIOS = 4


def _featured(study: StudyResults) -> list[str]:
    """The scenarios whose single-scenario charts a report draws: the reference and the
    best (:func:`_best`), or every scenario when a study has at most
    :data:`FEW_SCENARIOS`; the reference first, the rest in study order."""
    if len(study.names) <= FEW_SCENARIOS:
        others = [n for n in study.names if n != study.reference]
    else:
        best = _best(study)
        others = [] if best is None else [best.scenario]
    return [study.reference, *others]


def scenario_role(study: StudyResults, name: str) -> str:
    """Why a scenario is drawn on its own: ``reference``, ``highest <metric>`` (or
    ``lowest``) for the best one (:func:`_best`), or ``""`` for any other."""
    if name == study.reference:
        return "reference"
    best = _best(study)
    return best.role if best is not None and best.scenario == name else ""


def _labelled(study: StudyResults, name: str) -> str:
    """A scenario's name with its role, as chart titles show it:
    ``wip[limit=4] (highest go_lives_per_quarter)``."""
    role = scenario_role(study, name)
    return f"{name} ({role})" if role else name
