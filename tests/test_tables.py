"""The text tables say whether the runs settled (``flowsim.reporting.tables``).

Built from small hand-made summary frames, so that each case (all settled, some
unstable, a window too short to judge, results without a verdict) is checked on its
own, without running the model.
"""

from __future__ import annotations

import math

import pandas as pd

from flowsim.reporting.tables import (
    HORIZON_MARK,
    UNSTABLE_MARK,
    Stability,
    format_experiment_table,
    format_stats_table,
    stability_line,
)


def stats_rows(metrics: dict[str, list[float]]) -> pd.DataFrame:
    """``summarise_replications``-like rows: mean, a CI of +-1, and n."""
    rows = []
    for metric, (mean, n) in metrics.items():
        half = 1.0 if n > 1 else math.nan
        rows.append(
            {
                "metric": metric,
                "mean": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "half_width": half,
                "n": n,
            }
        )
    return pd.DataFrame(rows)


def test_growth_is_rounded_to_the_size_of_the_mean():
    assert Stability(10, 10, 26.4, 24.2, 28.7, 10).growth() == "26 [24, 29]"
    assert Stability(10, 10, 26.4, 24.2, 28.7, 10).growth(sign=True) == "+26 [24, 29]"
    assert Stability(10, 2, 3.14, 1.0, 5.2, 10).growth() == "3.1 [1.0, 5.2]"
    assert Stability(1, 1, 0.123, math.nan, math.nan, 1).growth() == "0.12"


def test_stability_line_for_each_case():
    assert stability_line(None) == ""
    assert stability_line(Stability(4, 0, 0.1, -0.1, 0.3, 4)) == (
        "settled: 0 of 4 replications unstable"
    )
    assert stability_line(Stability(4, 0, math.nan, math.nan, math.nan, 0)).startswith(
        "settled: not judged"
    )
    assert stability_line(Stability(4, 3, 12.0, 8.0, 16.0, 4)) == (
        "unstable: 3 of 4 replications (open work grows 12 [8, 16] items a week; "
        f"averages marked {HORIZON_MARK} depend on the horizon)"
    )
    # Nothing marked in the table above: nothing to explain.
    assert "marked" not in stability_line(Stability(4, 3, 12.0, 8.0, 16.0, 4), marked=False)


def test_stats_table_marks_steady_state_averages_only_when_unstable():
    metrics = {
        "tickets_closed_per_week": [9.0, 4],
        "ticket_normal_mean_days": [12.0, 4],
        "onboarding_lead_time_p50_days": [math.nan, 0],
        "open_work_trend_per_week": [5.0, 4],
    }
    unstable = format_stats_table(stats_rows({**metrics, "unstable": [0.5, 4]}))
    marked = [ln for ln in unstable.splitlines() if HORIZON_MARK in ln]
    assert len(marked) == 2 and "normal ticket resolution time" in marked[0]
    assert unstable.endswith(
        "unstable: 2 of 4 replications (open work grows 5.0 [4.0, 6.0] "
        f"items a week; averages marked {HORIZON_MARK} depend on the horizon)"
    )
    settled = format_stats_table(stats_rows({**metrics, "unstable": [0.0, 4]}))
    assert HORIZON_MARK not in settled
    assert settled.endswith("\n\nsettled: 0 of 4 replications unstable")
    # Results without a verdict: the table as it always was, with no last line.
    old = format_stats_table(stats_rows(metrics))
    assert old == settled.rsplit("\n\n", 1)[0]
    assert "settled" not in old and "unstable" not in old


def scenario_rows(values: dict[str, dict[str, float]]) -> pd.DataFrame:
    frames = []
    for name, metrics in values.items():
        frames.append(stats_rows({m: [v, 3] for m, v in metrics.items()}).assign(scenario=name))
    return pd.concat(frames, ignore_index=True)


def test_experiment_table_marks_only_unstable_scenarios():
    base = {"ticket_resolution_mean_days": 2.0, "open_work_trend_per_week": 0.01}
    table = scenario_rows(
        {
            "light": {**base, "unstable": 0.0},
            "heavy": {
                "ticket_resolution_mean_days": 30.0,
                "open_work_trend_per_week": 11.0,
                "unstable": 2 / 3,
            },
        }
    )
    text = format_experiment_table(table, pd.DataFrame(), "light", ["ticket_resolution_mean_days"])
    lines = text.splitlines()
    assert any(ln.startswith(f"  heavy {UNSTABLE_MARK} ") and HORIZON_MARK in ln for ln in lines)
    assert any(ln.startswith("  light ") and HORIZON_MARK not in ln for ln in lines)
    assert (
        f"  heavy {UNSTABLE_MARK}  2 of 3 replications unstable, open work +11 [10, 12] items/week"
        in lines
    )
    assert lines[-1].startswith(f"{HORIZON_MARK} ")
    # No unstable scenario: one line, and the table otherwise as before.
    calm = scenario_rows({"light": {**base, "unstable": 0.0}, "also": {**base, "unstable": 0.0}})
    text = format_experiment_table(calm, pd.DataFrame(), "light", ["ticket_resolution_mean_days"])
    assert text.endswith("\n\nsettled: 0 of 6 replications unstable, in 2 scenarios")
    assert UNSTABLE_MARK not in text and HORIZON_MARK not in text


def test_a_scenario_is_marked_when_at_least_half_its_replications_are_unstable() -> None:
    """One chance replication in thirty does not make a scenario's averages meaningless."""
    from flowsim.reporting.tables import Stability

    def s(unstable: int, reps: int = 30) -> Stability:
        return Stability(reps, unstable, 1.0, 0.5, 1.5, reps)

    assert not s(0).mostly_unstable and not s(1).mostly_unstable and s(1).any_unstable
    assert not s(14).mostly_unstable and s(15).mostly_unstable and s(30).mostly_unstable
    assert s(1, reps=1).mostly_unstable


def test_markdown_table_has_a_cell_per_metric_with_its_ci_and_the_marks():
    from flowsim.reporting.markdown import format_markdown_table

    table = scenario_rows(
        {
            "light": {
                "ticket_resolution_mean_days": 2.0,
                "arr_at_horizon": 1_234_567.0,
                "open_work_trend_per_week": 0.0,
                "unstable": 0.0,
            },
            "heavy": {
                "ticket_resolution_mean_days": 30.0,
                "arr_at_horizon": 5_000.0,
                "open_work_trend_per_week": 11.0,
                "unstable": 1.0,
            },
        }
    )
    text = format_markdown_table(table, ["ticket_resolution_mean_days", "arr_at_horizon"])
    lines = text.splitlines()
    assert lines[0] == "| scenario | ticket_resolution_mean_days | arr_at_horizon |"
    assert lines[1] == "|---|---|---|"
    assert lines[2] == "| `light` | 2.00 [1.00, 3.00] | 1,235k [1,235k, 1,235k] |"
    # Money under ten thousand stays whole; the steady-state mean of an unstable
    # scenario carries the dagger, a count does not.
    assert lines[3] == (
        f"| `heavy` {UNSTABLE_MARK} | 30.0{HORIZON_MARK} [29.0, 31.0] | 5,000 [4,999, 5,001] |"
    )
    assert lines[5].startswith("unstable: 1 of 2 scenarios") and lines[5].endswith(":")
    assert lines[6].startswith(f"- heavy {UNSTABLE_MARK}  3 of 3 replications unstable")
    assert lines[-1].startswith(f"- {HORIZON_MARK} ")
