"""Experiment files and the ad-hoc studies of ``flowsim compare`` and ``flowsim sweep``.

An experiment file resolves into one validated ``Params`` per scenario; these tests
check that the resolution is the one a user reading the file would expect (names,
overlays, overrides, the file-wide horizon, the reference) and that every mistake
in a file is reported as a single :class:`ConfigError` naming the file, the key
and what is wrong, before anything runs.  Nothing here simulates.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from flowsim.config import ConfigError, config_hash, load_config
from flowsim.config.experiment import (
    DEFAULT_METRICS,
    compare_experiment,
    load_experiment,
    sweep_experiment,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = CONFIGS / "baseline.yaml"
POLICIES = CONFIGS / "policies"
SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))


def write(folder: Path, text: str, name: str = "study.yaml") -> Path:
    """Write an experiment file into ``folder``; ``{configs}`` is the configs folder,
    relative to ``folder`` (paths in an experiment file are relative to the file)."""
    configs = Path(os.path.relpath(CONFIGS, folder)).as_posix()
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip().replace("{configs}", configs))
    return path


VALID = """
    name: study
    description: a small study
    base: {configs}/baseline.yaml
    replications: 3
    seed: 11
    horizon_weeks: 8
    warmup_weeks: 1
    metrics: [go_lives, ticket_resolution_mean_days]
    scenarios:
      - name: baseline
      - name: advisor
        description: every lever
        overlays: [{configs}/policies/advisor.yaml]
        set: {intake.limit: 3, lead.capacity_hours_per_week: 40}
    sweeps:
      - name: wip
        set: {intake.policy: wip_limit}
        grid: {intake.limit: [1, 2]}
      - name: grid
        overlays: [{configs}/policies/calls_without_lead.yaml]
        grid: {intake.limit: [2], lead.wip_limit: [3, null]}
"""


# ---------------------------------------------------------------- a valid file
def test_valid_file_resolves_into_the_expected_scenarios(tmp_path, monkeypatch):
    """Scenario names (sweep points as ``sweep[key=value,...]``), the file's fields and
    the reference (the first scenario by default) come out as written.  The file is
    loaded from another working directory: its paths are relative to the file."""
    path = write(tmp_path, VALID)
    monkeypatch.chdir(ROOT / "src")
    exp = load_experiment(path)
    assert [s.name for s in exp.scenarios] == [
        "baseline",
        "advisor",
        "wip[limit=1]",
        "wip[limit=2]",
        "grid[limit=2,wip_limit=3]",
        "grid[limit=2,wip_limit=null]",
    ]
    assert exp.name == "study" and exp.description == "a small study"
    assert exp.replications == 3 and exp.seed == 11
    assert exp.reference == "baseline"
    assert exp.metrics == ["go_lives", "ticket_resolution_mean_days"]
    assert exp.warmup is None
    assert exp.source == os.fspath(path)
    assert exp.scenario("advisor").description == "every lever"
    # Each scenario's Params carry its own name (file names and tables use it).
    assert all(s.params.name == s.name for s in exp.scenarios)


def test_overlays_sets_and_horizon_are_applied(tmp_path):
    """Overlays, then the scenario's ``set``, then the sweep point are applied over the
    base, and the file's ``horizon_weeks``/``warmup_weeks`` reach every scenario.  Each
    scenario equals what ``load_config`` gives for the same layers (same config hash)."""
    exp = load_experiment(write(tmp_path, VALID))
    for s in exp.scenarios:
        assert s.params.simulation.horizon_weeks == 8
        assert s.params.simulation.warmup_weeks == 1

    base = exp.scenario("baseline").params
    assert base.intake.policy == "accept_all"
    assert base.lead.capacity_hours_per_week == 45

    advisor = exp.scenario("advisor").params
    assert advisor.status_calls.lead_attends == "when_needed"  # from the overlay
    assert advisor.platform.enabled  # from the overlay
    assert advisor.intake.policy == "wip_limit"  # overlay
    assert advisor.intake.limit == 3  # set wins over the overlay's 2
    assert advisor.lead.capacity_hours_per_week == 40  # set
    (overlay,) = exp.scenario("advisor").overlays
    assert Path(overlay).resolve() == (POLICIES / "advisor.yaml").resolve()

    for limit in (1, 2):
        point = exp.scenario(f"wip[limit={limit}]").params
        assert point.intake.policy == "wip_limit" and point.intake.limit == limit
        assert point.status_calls.lead_attends == base.status_calls.lead_attends

    assert exp.scenario("grid[limit=2,wip_limit=3]").params.lead.wip_limit == 3
    assert exp.scenario("grid[limit=2,wip_limit=null]").params.lead.wip_limit is None
    assert exp.scenario("grid[limit=2,wip_limit=3]").params.status_calls.lead_attends == (
        "when_needed"
    )

    short = ["simulation.horizon_weeks=8", "simulation.warmup_weeks=1"]
    expected = load_config(
        BASELINE,
        [POLICIES / "advisor.yaml"],
        [*short, "intake.limit=3", "lead.capacity_hours_per_week=40", "name=advisor"],
    )
    assert config_hash(advisor) == config_hash(expected)
    expected_point = load_config(
        BASELINE, [], [*short, "intake.policy=wip_limit", "intake.limit=2", "name=wip[limit=2]"]
    )
    assert config_hash(exp.scenario("wip[limit=2]").params) == config_hash(expected_point)


def test_defaults_reference_and_reps_override(tmp_path):
    """An explicit ``reference`` may name a sweep point; ``reps=`` overrides the file's
    replications; metrics default to the documented list; without ``horizon_weeks``
    each scenario keeps its config's own horizon."""
    path = write(
        tmp_path,
        """
        name: defaults
        base: {configs}/baseline.yaml
        reference: wip[limit=2]
        sweeps:
          - name: wip
            set: {intake.policy: wip_limit}
            grid: {intake.limit: [1, 2]}
        """,
    )
    exp = load_experiment(path)
    assert exp.reference == "wip[limit=2]"
    assert exp.replications == 30 and exp.seed == 0
    assert exp.metrics == DEFAULT_METRICS
    assert (
        exp.scenarios[0].params.simulation.horizon_weeks
        == load_config(BASELINE).simulation.horizon_weeks
    )
    assert load_experiment(path, reps=4).replications == 4


def test_mser5_warmup_spec_is_kept_for_the_runner(tmp_path):
    """``warmup_weeks: {method: mser5}`` is not applied at load time: the experiment
    carries the spec (the CLI runs the pilot), and each config keeps its warm-up."""
    path = write(
        tmp_path,
        """
        name: pilot
        base: {configs}/baseline.yaml
        warmup_weeks: {method: mser5, pilot_replications: 2}
        scenarios:
          - name: a
        """,
    )
    exp = load_experiment(path)
    assert exp.warmup is not None
    assert exp.warmup.method == "mser5" and exp.warmup.pilot_replications == 2
    assert exp.warmup.series == "lead_backlog"
    assert exp.scenarios[0].params.simulation.warmup_weeks == 13


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_experiment_loads(path):
    """Every study in ``experiments/`` is valid, has a reference among its scenarios
    and unique scenario names, and its metrics are known."""
    exp = load_experiment(path)
    names = [s.name for s in exp.scenarios]
    assert len(names) == len(set(names)) >= 2
    assert exp.reference in names
    assert exp.replications >= 2
    assert exp.metrics


def test_shipped_flagship_sweep_names():
    """The flagship study's sweep points are named ``wip[limit=N]`` and
    ``intake[starts_per_month=X]`` and set what their names say."""
    exp = load_experiment(ROOT / "experiments" / "slow_down_to_speed_up.yaml")
    names = [s.name for s in exp.scenarios]
    assert names[:2] == ["baseline", "unlimited"]
    assert [f"wip[limit={n}]" for n in (1, 2, 3, 4, 6, 8)] == names[2:8]
    assert names[8:] == ["intake[starts_per_month=0.5]", "intake[starts_per_month=1.0]"]
    assert exp.scenario("wip[limit=4]").params.intake.limit == 4
    assert exp.scenario("wip[limit=4]").params.intake.policy == "wip_limit"
    assert exp.scenario("intake[starts_per_month=0.5]").params.intake.policy == "fixed_rate"


# ---------------------------------------------------------------- bad files
SCENARIO = "scenarios:\n  - name: a\n"
BAD_FILES = {
    "unknown_key": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a\n    colour: red\n",
        5,
        ["scenarios.0.colour", "unknown key", "red"],
    ),
    "unknown_top_level_key": (
        "name: t\nbase: {configs}/baseline.yaml\nhorizon: 3\n" + SCENARIO,
        3,
        ["horizon", "unknown key"],
    ),
    "wrong_type": (
        "name: t\nbase: {configs}/baseline.yaml\nreplications: many\n" + SCENARIO,
        3,
        ["replications", "integer", "'many'"],
    ),
    "wrong_type_list": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a\n"
        "  - name: b\n    overlays: x.yaml\n",
        6,
        ["scenarios.1.overlays", "list", "'x.yaml'"],
    ),
    "one_replication": (
        "name: t\nbase: {configs}/baseline.yaml\nreplications: 1\n" + SCENARIO,
        3,
        ["replications", "greater than or equal to 2", "got 1"],
    ),
    "unknown_reference": (
        "name: t\nbase: {configs}/baseline.yaml\nreference: nope\n" + SCENARIO,
        3,
        ["reference", "'nope'", "(a)"],
    ),
    "unknown_metric": (
        "name: t\nbase: {configs}/baseline.yaml\nmetrics: [go_lives, nope_metric]\n" + SCENARIO,
        3,
        ["metrics", "unknown metric 'nope_metric'", "ticket_resolution_mean_days"],
    ),
    "bad_scenario_name": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a b\n",
        4,
        ["scenarios.0.name", "'a b'"],
    ),
    "empty_grid": (
        "name: t\nbase: {configs}/baseline.yaml\nsweeps:\n  - name: s\n"
        "    grid: {intake.limit: []}\n",
        4,
        ["sweeps.0", "intake.limit", "at least one value"],
    ),
    "no_scenarios_no_sweeps": (
        "name: t\nbase: {configs}/baseline.yaml\n",
        None,
        ["at least one scenario or sweep"],
    ),
    "missing_base": ("name: t\n" + SCENARIO, None, ["base", "required"]),
    "missing_overlay": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a\n  - name: bad\n"
        "    overlays: [missing_overlay.yaml]\n",
        None,
        ["scenario 'bad'", "no such config file", "missing_overlay.yaml"],
    ),
    "missing_base_file": (
        "name: t\nbase: nowhere.yaml\n" + SCENARIO,
        None,
        ["scenario 'a'", "no such config file", "nowhere.yaml"],
    ),
    "set_names_missing_key": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a\n  - name: bad\n"
        "    set: {lead.nope: 3}\n",
        None,
        ["scenario 'bad'", "lead.nope", "no such key 'nope'"],
    ),
    "set_bad_value": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a\n"
        "    set: {lead.capacity_hours_per_week: -3}\n",
        None,
        ["scenario 'a'", "lead.capacity_hours_per_week", "> 0", "-3"],
    ),
    "grid_names_missing_key": (
        "name: t\nbase: {configs}/baseline.yaml\nsweeps:\n  - name: s\n"
        "    grid: {lead.nope: [1]}\n",
        None,
        ["scenario 's[nope=1]'", "lead.nope", "no such key"],
    ),
    "horizon_shorter_than_warmup": (
        "name: t\nbase: {configs}/baseline.yaml\nhorizon_weeks: 8\n" + SCENARIO,
        None,
        ["scenario 'a'", "warmup_weeks", "horizon_weeks"],
    ),
    "duplicate_names": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: a\n  - name: a\n",
        None,
        ["unique", "a"],
    ),
    "sweep_point_duplicates_scenario": (
        "name: t\nbase: {configs}/baseline.yaml\nscenarios:\n  - name: wip[limit=2]\n"
        "sweeps:\n  - name: wip\n    grid: {intake.limit: [2]}\n",
        None,
        ["unique", "wip[limit=2]"],
    ),
    "not_a_mapping": ("- a\n- b\n", 1, ["mapping"]),
    "invalid_yaml": ("name: t\nbase: [\n", None, ["YAML"]),
}


@pytest.mark.parametrize(("text", "line", "fragments"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_one_config_error_naming_file_key_and_problem(tmp_path, text, line, fragments):
    """A mistake in an experiment file raises ``ConfigError`` (never a pydantic or YAML
    exception) with a single-line message that starts with the file (and line, where
    the key is written in the file), names the key path or scenario, and says what
    is wrong."""
    path = write(tmp_path, text, name="bad.yaml")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    message = str(info.value)
    assert "\n" not in message
    prefix = os.fspath(path) if line is None else f"{path}:{line}:"
    assert message.startswith(prefix), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_missing_experiment_file(tmp_path):
    """A missing experiment file is a ConfigError naming it, not a FileNotFoundError."""
    with pytest.raises(ConfigError, match="no such"):
        load_experiment(tmp_path / "nothere.yaml")


# ---------------------------------------------------------------- compare and sweep
SHORT = ("simulation.horizon_weeks=8", "simulation.warmup_weeks=1")


def test_compare_experiment_builds_base_and_one_scenario_per_policy():
    """``compare`` makes the base config the reference and adds one scenario per policy
    overlay, named after the overlay file, with the options' overlays and sets under it."""
    policies = [os.fspath(POLICIES / "advisor.yaml"), os.fspath(POLICIES / "shield_lead.yaml")]
    exp = compare_experiment(os.fspath(BASELINE), policies, reps=4, seed=9, sets=SHORT)
    assert [s.name for s in exp.scenarios] == ["baseline", "advisor", "shield_lead"]
    assert exp.reference == "baseline"
    assert exp.replications == 4 and exp.seed == 9
    assert exp.metrics == DEFAULT_METRICS
    assert all(s.params.simulation.horizon_weeks == 8 for s in exp.scenarios)
    advisor = exp.scenario("advisor")
    assert advisor.params.name == "advisor"
    assert advisor.params.platform.enabled
    assert advisor.overlays == (policies[0],)
    expected = load_config(BASELINE, [policies[0]], [*SHORT, "name=advisor"])
    assert config_hash(advisor.params) == config_hash(expected)
    # Without --seed the root seed is the base config's simulation.seed.
    default = compare_experiment(os.fspath(BASELINE), policies[:1], reps=2)
    assert default.seed == load_config(BASELINE).simulation.seed


def test_compare_experiment_rejects_unknown_metric_and_missing_policy():
    """A misspelt ``--metric`` and a policy file that does not exist are ConfigErrors."""
    with pytest.raises(ConfigError, match="unknown metric 'nope'"):
        compare_experiment(
            os.fspath(BASELINE), [os.fspath(POLICIES / "advisor.yaml")], 2, metrics=["nope"]
        )
    with pytest.raises(ConfigError, match="no such config file: .*nope.yaml"):
        compare_experiment(os.fspath(BASELINE), [os.fspath(POLICIES / "nope.yaml")], 2)


def test_sweep_experiment_builds_the_grid():
    """``sweep`` makes one scenario per point of the product of the ``--param`` values,
    named ``key=value,...`` (last part of each key), the first point the reference."""
    exp = sweep_experiment(
        os.fspath(BASELINE),
        ["intake.limit=1,2", "lead.wip_limit=2, null"],
        reps=3,
        seed=5,
        sets=(*SHORT, "intake.policy=wip_limit"),
        metrics=["go_lives"],
    )
    assert [s.name for s in exp.scenarios] == [
        "limit=1,wip_limit=2",
        "limit=1,wip_limit=null",
        "limit=2,wip_limit=2",
        "limit=2,wip_limit=null",
    ]
    assert exp.reference == "limit=1,wip_limit=2"
    assert exp.metrics == ["go_lives"] and exp.replications == 3 and exp.seed == 5
    point = exp.scenario("limit=2,wip_limit=null").params
    assert point.intake.policy == "wip_limit" and point.intake.limit == 2
    assert point.lead.wip_limit is None
    assert point.simulation.horizon_weeks == 8


@pytest.mark.parametrize(
    "param", ["lead.wip_limit", "=1,2", "lead.wip_limit=", "lead.wip_limit=  "]
)
def test_malformed_param_is_a_config_error(param):
    """A ``--param`` that is not ``KEY=V1,V2,...`` is a ConfigError quoting it."""
    with pytest.raises(ConfigError) as info:
        sweep_experiment(os.fspath(BASELINE), [param], reps=2)
    assert str(info.value).startswith("--param: expected KEY=V1,V2,...")
    assert repr(param) in str(info.value)


@pytest.mark.parametrize(
    ("param", "fragment"),
    [("lead.nope=1,2", "no such key 'nope'"), ("lead.wip_limit=1,abc", "'abc'")],
)
def test_param_with_bad_key_or_value_is_a_config_error(param, fragment):
    """A ``--param`` naming a missing key or giving an invalid value is a ConfigError
    naming the key, like ``--set``."""
    with pytest.raises(ConfigError, match=fragment):
        sweep_experiment(os.fspath(BASELINE), [param], reps=2)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: sweep_experiment(os.fspath(BASELINE), ["lead.wip_limit=1,1"], reps=2),
            id="sweep-repeated-value",
        ),
        pytest.param(
            lambda: compare_experiment(os.fspath(BASELINE), [os.fspath(BASELINE)], reps=2),
            id="compare-policy-named-like-base",
        ),
    ],
)
def test_adhoc_studies_reject_duplicate_scenario_names(build):
    """Like an experiment file, ``compare`` and ``sweep`` should refuse two scenarios
    with one name: the runner keys replications by scenario name, so duplicates are
    silently merged (``mean over 4 replications`` for ``--reps 2``) or crash the
    paired comparison with a traceback."""
    with pytest.raises(ConfigError, match="unique"):
        build()
