"""The config layer: reading, merging, overriding, error messages, hash and docs."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from flowsim.config import (
    ConfigError,
    config_hash,
    dump_yaml,
    json_schema,
    load_config,
    reference_markdown,
    resolve_config,
)
from flowsim.model.distributions import Constant, Lognormal
from flowsim.model.params import Params


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(*args: object, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(*args, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "base.yaml",
        """
        name: test
        simulation:
          horizon_weeks: 52
          warmup_weeks: 4
        lead:
          capacity_hours_per_week: 40
          prioritisation:
            policy: fifo
        onboarding:
          task_effort: {kind: lognormal, mean: 10, cv: 0.5}
        """,
    )


# --- reading files ---------------------------------------------------------------------------


def test_valid_config_loads(base: Path) -> None:
    params = load_config(base)
    assert params.name == "test"
    assert params.lead.capacity_hours_per_week == 40
    assert params.lead.prioritisation.policy == "fifo"
    assert params.onboarding.task_effort == Lognormal.model_validate({"mean": 10, "cv": 0.5})
    assert params.team.contractors == Params().team.contractors  # defaults fill the rest


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "empty.yaml", "")) == Params()


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert error_of(missing) == f"no such config file: {missing}"


def test_directory_is_not_a_config(tmp_path: Path) -> None:
    assert error_of(tmp_path).startswith(f"cannot read config file {tmp_path}")


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: x\nlead:\n  wip_limit: 3: 4\n")
    message = error_of(path)
    assert message.startswith(f"{path}:3: invalid YAML: ")
    assert "mapping values are not allowed here" in message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "lead:\n  wip_limit: 3\n  wip_limit: 4\n")
    assert error_of(path) == f"{path}:3: invalid YAML: duplicate key 'wip_limit' (first on line 2)"


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- 1\n- 2\n")
    assert error_of(path) == (
        f"{path}:1: expected a mapping of sections at the top level, got [1, 2]"
    )


def test_yaml_aliases_do_not_share_merged_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        """
        onboarding:
          tasks: &effort {kind: lognormal, mean: 10, cv: 1}
          task_effort: *effort
        """,
    )
    overlay = write(tmp_path, "o.yaml", "onboarding:\n  tasks: {mean: 12}\n")
    params = load_config(path, [overlay])
    assert (params.onboarding.tasks.mean, params.onboarding.task_effort.mean) == (12, 10)


def test_recursive_alias_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "a: &x [1, *x]\n")
    assert error_of(path).startswith(f"{path}:1: invalid YAML: an alias refers to a node")


# --- validation messages ---------------------------------------------------------------------


def test_unknown_key_names_file_line_section_known_keys_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "name: x\nlead:\n  capcity_hours_per_week: 3\n")
    assert error_of(path) == (
        f"{path}:3: lead: unknown key 'capcity_hours_per_week' (known keys: "
        "capacity_hours_per_week, wip_limit, prioritisation, annual_cost); "
        "did you mean 'capacity_hours_per_week'?"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "simulaton:\n  seed: 1\n")
    message = error_of(path)
    assert message.startswith(f"{path}:1: unknown key 'simulaton' (known keys: name, description,")
    assert message.endswith("did you mean 'simulation'?")


def test_overlays_key_is_not_a_feature(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "overlays: [other.yaml]\n")
    assert "unknown key 'overlays'" in error_of(path)


@pytest.mark.parametrize(
    ("yaml_text", "line", "key", "detail"),
    [
        (
            "lead:\n  capacity_hours_per_week: -1\n",
            2,
            "lead.capacity_hours_per_week",
            "expected a number > 0, got -1",
        ),
        (
            "lead:\n  capacity_hours_per_week: lots\n",
            2,
            "lead.capacity_hours_per_week",
            "expected a number > 0, got 'lots'",
        ),
        (
            "interrupts:\n  triage_resolves: 2\n",
            2,
            "interrupts.triage_resolves",
            "expected a number >= 0 and <= 1, got 2",
        ),
        ("simulation:\n  seed: 1.5\n", 2, "simulation.seed", "expected an integer >= 0, got 1.5"),
        (
            "simulation:\n  event_log: maybe\n",
            2,
            "simulation.event_log",
            "expected true or false, got 'maybe'",
        ),
        ("lead:\n  wip_limit: 0\n", 2, "lead.wip_limit", "expected an integer >= 1 or null, got 0"),
        ("name: 5\n", 1, "name", "expected a string, got 5"),
        ("lead: 5\n", 1, "lead", "expected a mapping, got 5"),
        (
            "context_switching:\n  efficiency: []\n",
            2,
            "context_switching.efficiency",
            "expected a non-empty list of numbers, got []",
        ),
    ],
)
def test_wrong_value_says_what_was_expected_and_given(
    tmp_path: Path, yaml_text: str, line: int, key: str, detail: str
) -> None:
    path = write(tmp_path, "c.yaml", yaml_text)
    assert error_of(path) == f"{path}:{line}: {key}: {detail}"


def test_policy_name_lists_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "lead:\n  prioritisation:\n    policy: fiffo\n")
    assert error_of(path) == (
        f"{path}:3: lead.prioritisation.policy: expected one of 'fifo', 'urgent_first', "
        "'top_n', 'oldest_first', 'classes_of_service', got 'fiffo'; did you mean 'fifo'?"
    )


def test_list_item_choice(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "forgetting:\n  applies_to:\n    - ticket\n    - tsk\n")
    assert error_of(path) == (
        f"{path}:4: forgetting.applies_to.1: expected one of 'ticket', 'task', 'ask', "
        "got 'tsk'; did you mean 'task'?"
    )


def test_distribution_parameter_path_has_no_union_tag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        "onboarding:\n  task_effort:\n    kind: lognormal\n    mean: -1\n    cv: 1\n",
    )
    assert error_of(path) == (
        f"{path}:4: onboarding.task_effort.mean: expected a number > 0, got -1"
    )


def test_distribution_unknown_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "onboarding:\n  tasks: {kind: integer, low: 1, high: 3}\n")
    message = error_of(path)
    assert message.startswith(
        f"{path}:2: onboarding.tasks.kind: expected one of 'exponential', 'lognormal',"
    )
    assert message.endswith("got 'integer'; did you mean 'integers'?")


def test_distribution_without_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "onboarding:\n  tasks: {low: 1, high: 3}\n")
    assert error_of(path).startswith(
        f"{path}:2: onboarding.tasks: missing key 'kind' of the distribution (one of 'exponential'"
    )


def test_distribution_unknown_parameter(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        "onboarding:\n  task_effort:\n    kind: lognormal\n    mean: 5\n    cvv: 1\n",
    )
    assert error_of(path) == (
        f"{path}:5: onboarding.task_effort: unknown key 'cvv' (known keys: kind, mean, cv); "
        "did you mean 'cv'? (and 1 more error)"
    )


def test_distribution_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "onboarding:\n  task_effort: 5\n")
    assert error_of(path) == (
        f"{path}:2: onboarding.task_effort: expected a distribution (a mapping with a 'kind' key), "
        "got 5"
    )


def test_unknown_mapping_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        """
        tickets:
          classes:
            urgnt: {share: 1, effort: {kind: constant, value: 1}, target_days: 1}
        """,
    )
    assert error_of(path) == (
        f"{path}:3: tickets.classes: unknown key 'urgnt' (known keys: urgent, normal, how_to); "
        "did you mean 'urgent'?"
    )


def test_missing_required_key_and_count_of_further_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "tickets:\n  classes:\n    urgent: {share: 1}\n")
    assert error_of(path) == (
        f"{path}:3: tickets.classes.urgent: missing required key 'effort' (and 1 more error)"
    )


def test_warmup_not_shorter_than_horizon(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "simulation:\n  horizon_weeks: 10\n  warmup_weeks: 10\n")
    assert error_of(path) == (
        f"{path}:3: simulation: warmup_weeks (10.0) must be shorter than horizon_weeks (10.0)"
    )


def test_warmup_error_points_at_the_key_the_user_set(tmp_path: Path) -> None:
    # The default warm-up (13 weeks) outlasts this horizon: the horizon line is the one to fix.
    path = write(tmp_path, "c.yaml", "name: short\nsimulation:\n  horizon_weeks: 8\n")
    assert error_of(path).startswith(f"{path}:3: simulation: warmup_weeks (13.0) must be shorter")


def test_triage_without_support(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "team:\n  support: 0\ninterrupts:\n  shielding: triage\n")
    assert error_of(path) == (
        f"{path}:4: interrupts.shielding 'triage' needs a support person: set team.support >= 1 "
        "or add a support hire to hiring.plan"
    )


def test_triage_with_support_hire_is_fine(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        "interrupts: {shielding: triage}\nhiring:\n  plan: [{role: support, at_week: 4}]\n",
    )
    assert load_config(path).interrupts.shielding == "triage"


@pytest.mark.parametrize(
    "text",
    [
        "simulation:\n  hours_per_day: 6\ninterrupts:\n  enabled: false\n",
        "simulation:\n  hours_per_day: 6\n",  # immediate shielding: no office hour used
        "interrupts:\n  enabled: false\n  shielding: triage\n",  # triage unused
    ],
    ids=["short_day_interrupts_off", "short_day_immediate", "triage_with_interrupts_off"],
)
def test_settings_that_are_not_used_do_not_invalidate_a_config(tmp_path: Path, text: str) -> None:
    assert load_config(write(tmp_path, "c.yaml", text)).name == "baseline"


def test_office_hour_outside_a_short_day_is_refused_when_used(tmp_path: Path) -> None:
    text = "simulation:\n  hours_per_day: 6\ninterrupts:\n  shielding: office_hours\n"
    path = write(tmp_path, "c.yaml", text)
    assert "interrupts.office_hour (6.0) must fall inside the working day of 6.0" in error_of(path)


def test_list_entry_validator(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        """
        hiring:
          plan:
            - role: engineer
              at_week: 3
            - role: support
        """,
    )
    assert error_of(path) == (
        f"{path}:5: hiring.plan.1: a hire needs exactly one of at_week or when_backlog_above"
    )


# --- overlays --------------------------------------------------------------------------------


def test_overlays_merge_in_order(tmp_path: Path, base: Path) -> None:
    first = write(
        tmp_path,
        "first.yaml",
        """
        lead:
          capacity_hours_per_week: 50
          wip_limit: 2
        context_switching:
          efficiency: [1, 0.5]
        """,
    )
    second = write(
        tmp_path,
        "second.yaml",
        """
        lead:
          capacity_hours_per_week: 60
        context_switching:
          efficiency: [1]
        """,
    )
    params, data = resolve_config(base, [first, second])
    assert params.lead.capacity_hours_per_week == 60  # the last overlay wins
    assert params.lead.wip_limit == 2  # mappings merge: siblings survive
    assert params.lead.prioritisation.policy == "fifo"  # and so does the base
    assert params.context_switching.efficiency == [1.0]  # lists replace, never merge
    assert data["lead"] == {
        "capacity_hours_per_week": 60,
        "prioritisation": {"policy": "fifo"},
        "wip_limit": 2,
    }
    assert load_config(base, [second, first]).lead.capacity_hours_per_week == 50


def test_overlay_distribution_of_another_kind_replaces(tmp_path: Path, base: Path) -> None:
    other = write(tmp_path, "o.yaml", "onboarding:\n  task_effort: {kind: constant, value: 3}\n")
    assert load_config(base, [other]).onboarding.task_effort == Constant(value=3)


def test_overlay_distribution_of_same_kind_merges(tmp_path: Path, base: Path) -> None:
    other = write(tmp_path, "o.yaml", "onboarding:\n  task_effort: {mean: 20}\n")
    effort = load_config(base, [other]).onboarding.task_effort
    assert effort == Lognormal.model_validate({"mean": 20, "cv": 0.5})


def test_error_points_at_the_overlay_that_set_the_key(tmp_path: Path, base: Path) -> None:
    other = write(tmp_path, "o.yaml", "name: other\nlead:\n  capacity_hours_per_week: -5\n")
    assert error_of(base, [other]) == (
        f"{other}:3: lead.capacity_hours_per_week: expected a number > 0, got -5"
    )


def test_error_points_at_the_base_when_the_overlay_did_not_set_the_key(tmp_path: Path) -> None:
    bad = write(tmp_path, "base.yaml", "lead:\n  wip_limit: 0\n")
    other = write(tmp_path, "o.yaml", "lead:\n  capacity_hours_per_week: 50\n")
    assert error_of(bad, [other]) == (
        f"{bad}:2: lead.wip_limit: expected an integer >= 1 or null, got 0"
    )


def test_replaced_subtree_is_attributed_to_the_overlay(tmp_path: Path, base: Path) -> None:
    other = write(
        tmp_path, "o.yaml", "onboarding:\n  task_effort:\n    kind: constant\n    value: -1\n"
    )
    assert error_of(base, [other]) == (
        f"{other}:4: onboarding.task_effort.value: expected a number >= 0, got -1"
    )


def test_invalid_overlay_file(tmp_path: Path, base: Path) -> None:
    assert error_of(base, [tmp_path / "gone.yaml"]) == (
        f"no such config file: {tmp_path / 'gone.yaml'}"
    )


# --- --set -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "key", "expected"),
    [
        ("lead.wip_limit=5", ("lead", "wip_limit"), 5),
        ("interrupts.triage_resolves=0.3", ("interrupts", "triage_resolves"), 0.3),
        ("quality.enabled=true", ("quality", "enabled"), True),
        ("onboarding.parallel_tasks=null", ("onboarding", "parallel_tasks"), None),
        ("context_switching.efficiency=[1, 0.5]", ("context_switching", "efficiency"), [1, 0.5]),
        (
            "onboarding.task_effort={kind: constant, value: 1}",
            ("onboarding", "task_effort"),
            {"kind": "constant", "value": 1},
        ),
        ("lead.prioritisation.policy=fifo", ("lead", "prioritisation", "policy"), "fifo"),
        ("description=''", ("description",), ""),
        ("name = spaced ", ("name",), "spaced"),
    ],
)
def test_set_reads_the_value_as_yaml(
    base: Path, assignment: str, key: tuple[str, ...], expected: object
) -> None:
    params, data = resolve_config(base, sets=[assignment])
    node: object = data
    for part in key:
        assert isinstance(node, dict)
        node = node[part]
    assert node == expected and type(node) is type(expected)
    dumped: object = params.model_dump(mode="json", by_alias=True)
    for part in key:
        assert isinstance(dumped, dict)
        dumped = dumped[part]
    assert dumped == expected


def test_set_wins_over_overlays_and_applies_in_order(tmp_path: Path, base: Path) -> None:
    other = write(tmp_path, "o.yaml", "lead:\n  wip_limit: 2\n")
    sets = ["lead.wip_limit=3", "lead.wip_limit=4"]
    assert load_config(base, [other], sets).lead.wip_limit == 4


def test_set_inside_a_default_distribution_keeps_its_other_parameters(base: Path) -> None:
    params = load_config(base, sets=["status_calls.ask_effort.mean=7"])
    default = Params().status_calls.ask_effort
    assert params.status_calls.ask_effort == default.model_copy(update={"mean_value": 7.0})


def test_set_inside_default_ticket_classes(base: Path) -> None:
    sets = ["tickets.classes.urgent.share=0.3", "tickets.classes.normal.share=0.4"]
    classes = load_config(base, sets=sets).tickets.classes
    assert (classes["urgent"].share, classes["normal"].share, classes["how_to"].share) == (
        0.3,
        0.4,
        0.3,
    )


def test_set_inside_a_list_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "hiring:\n  plan:\n    - {role: engineer, at_week: 3}\n")
    assert load_config(path, sets=["hiring.plan.0.at_week=8"]).hiring.plan[0].at_week == 8
    message = error_of(path, sets=["hiring.plan.1.at_week=8"])
    assert message.startswith("--set hiring.plan.1.at_week: no such key (hiring.plan has 1 entries")


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        (
            "foo.bar=1",
            "--set foo.bar: no such key 'foo' at the top level (known keys: name, description,",
        ),
        (
            "lead.capacity=1",
            "--set lead.capacity: no such key 'capacity' under lead (known keys: "
            "capacity_hours_per_week, wip_limit, prioritisation, annual_cost)",
        ),
        (
            "tickets.classes.urgnt.share=0.3",
            "--set tickets.classes.urgnt.share: no such key 'urgnt' under tickets.classes "
            "(known keys: urgent, normal, how_to); did you mean 'tickets.classes.urgent'?",
        ),
        (
            "onboarding.task_effort.value=3",
            "--set onboarding.task_effort.value: no such key 'value' for the lognormal "
            "distribution at onboarding.task_effort (known keys: kind, mean, cv)",
        ),
        (
            "lead.annual_cost.usd=3",
            "--set lead.annual_cost.usd: no such key (lead.annual_cost is a number >= 0, "
            "which has no keys)",
        ),
    ],
)
def test_set_on_a_key_the_schema_does_not_have(base: Path, assignment: str, message: str) -> None:
    assert error_of(base, sets=[assignment]).startswith(message)


def test_set_suggests_the_full_key_path(base: Path) -> None:
    assert error_of(base, sets=["lead.wip_limt=3"]).endswith("did you mean 'lead.wip_limit'?")


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("lead.wip_limit", "--set lead.wip_limit: expected KEY=VALUE, e.g. lead.wip_limit=3"),
        ("=3", "--set =3: expected KEY=VALUE"),
        ("lead..wip_limit=3", "--set lead..wip_limit=3: expected KEY=VALUE"),
        ("lead.wip_limit=", "--set lead.wip_limit=: missing value (write null for none"),
        ("lead.wip_limit=[1", "--set lead.wip_limit=[1: cannot read the value as YAML: "),
    ],
)
def test_malformed_set(base: Path, assignment: str, message: str) -> None:
    assert error_of(base, sets=[assignment]).startswith(message)


def test_set_value_error_names_the_set_not_a_file(base: Path) -> None:
    assert error_of(base, sets=["lead.capacity_hours_per_week=-1"]) == (
        "--set lead.capacity_hours_per_week=-1: expected a number > 0, got -1"
    )


def test_set_value_error_below_the_set_key_names_the_full_path(base: Path) -> None:
    message = error_of(base, sets=["onboarding.task_effort={kind: lognormal, mean: -1, cv: 1}"])
    assert message == (
        "--set onboarding.task_effort={kind: lognormal, mean: -1, cv: 1}: "
        "onboarding.task_effort.mean: expected a number > 0, got -1"
    )


def test_set_causing_a_model_level_error(base: Path) -> None:
    assert error_of(base, sets=["simulation.warmup_weeks=60"]) == (
        "--set simulation.warmup_weeks=60: simulation: warmup_weeks (60.0) must be shorter "
        "than horizon_weeks (52.0)"
    )
    assert error_of(base, sets=["interrupts.shielding=triage"]).startswith(
        "--set interrupts.shielding=triage: interrupts.shielding 'triage' needs a support person"
    )


# --- hash, dump, schema, reference -----------------------------------------------------------


def test_config_hash_ignores_key_order_and_spelling(tmp_path: Path) -> None:
    one = write(tmp_path, "one.yaml", "lead:\n  wip_limit: 3\n  annual_cost: 1000\nname: x\n")
    two = write(tmp_path, "two.yaml", "name: x\nlead: {annual_cost: 1000.0, wip_limit: 3}\n")
    assert config_hash(load_config(one)) == config_hash(load_config(two))
    assert config_hash(load_config(one)) != config_hash(load_config(one, sets=["lead.wip_limit=4"]))


def test_config_hash_is_sha256_of_canonical_json() -> None:
    params = Params()
    canonical = json.dumps(
        params.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    digest = config_hash(params)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()


def test_dump_yaml_round_trips(tmp_path: Path, base: Path) -> None:
    params = load_config(base, sets=["hiring.plan=[{role: support, at_week: 2}]"])
    text = dump_yaml(params)
    assert list(yaml.safe_load(text))[:3] == ["name", "description", "simulation"]
    assert "task_effort: {kind: lognormal, mean: 10, cv: 0.5}" in text
    assert "mean_value" not in text
    again = load_config(write(tmp_path, "dumped.yaml", text))
    assert again == params
    assert config_hash(again) == config_hash(params)


def test_json_schema_is_json_with_descriptions() -> None:
    schema = json.loads(json.dumps(json_schema()))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "flowsim configuration"
    horizon = schema["$defs"]["Simulation"]["properties"]["horizon_weeks"]
    assert horizon["description"].startswith("Length of a run, in weeks")
    assert horizon["maximum"] == 52000
    assert "mean" in schema["$defs"]["Lognormal"]["properties"]  # the alias, not mean_value
    assert schema["additionalProperties"] is False


def test_reference_markdown_documents_every_parameter() -> None:
    text = reference_markdown()
    assert text.startswith("# Configuration reference\n")
    assert (
        "| `simulation.horizon_weeks` | number > 0 and <= 52000 | `104` | Length of a run, in weeks"
        in text
    )
    assert "| `lead.wip_limit` | integer >= 1, or null | `null` |" in text
    assert "| `onboarding.task_effort` | [distribution](#distributions) | " in text
    assert "| `tickets.classes.<key>.share` |" in text
    assert "| `hiring.plan.<i>.role` |" in text
    assert "## Distributions" in text and "### `lognormal`" in text
    for section, info in Params.model_fields.items():
        model = info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for key, field in model.model_fields.items():
                nested = isinstance(field.annotation, type) and issubclass(
                    field.annotation, BaseModel
                )
                if not nested:
                    assert f"`{section}.{key}`" in text, f"{section}.{key} is undocumented"
