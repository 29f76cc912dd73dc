"""The ``validate`` and ``schema`` commands, and the CLI pieces other commands reuse."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from flowsim import __version__
from flowsim.cli import config_options, exit_on_config_error, load_or_exit, main
from flowsim.config import ConfigError, config_hash, load_config


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def invoke(command: click.Command, *args: str | Path) -> Result:
    result = CliRunner().invoke(command, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write(tmp_path, "good.yaml", "name: good\nlead:\n  wip_limit: 3\n")


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    return write(tmp_path, "bad.yaml", "lead:\n  capacity_hours_per_week: -1\n")


def test_version() -> None:
    result = invoke(main, "--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_validate_ok_prints_the_hash(good: Path) -> None:
    result = invoke(main, "validate", good)
    assert result.exit_code == 0
    digest = config_hash(load_config(good))[:12]
    assert result.stdout == f"ok  {good} (hash {digest})\n"
    assert result.stderr == ""


def test_validate_reports_each_file_and_exits_2(good: Path, bad: Path) -> None:
    result = invoke(main, "validate", good, bad)
    assert result.exit_code == 2
    assert result.stdout.startswith(f"ok  {good} (hash ")
    assert result.stderr == (
        f"error: {bad}:2: lead.capacity_hours_per_week: expected a number > 0, got -1\n"
    )


def test_validate_missing_config(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = invoke(main, "validate", missing)
    assert result.exit_code == 2
    assert result.stderr == f"error: no such config file: {missing}\n"


def test_validate_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "lead:\n  wip_limt: 3\n")
    result = invoke(main, "validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:2: lead: unknown key 'wip_limt' (known keys: ")
    assert result.stderr.endswith("did you mean 'wip_limit'?\n")


def test_validate_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "lead: [1, 2\n")
    result = invoke(main, "validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:2: invalid YAML: ")


def test_validate_with_overlay_and_set(tmp_path: Path, good: Path) -> None:
    overlay = write(tmp_path, "o.yaml", "lead:\n  wip_limit: 5\n")
    result = invoke(main, "validate", good, "--overlay", overlay, "--set", "team.contractors=4")
    assert result.exit_code == 0
    expected = load_config(good, [overlay], ["team.contractors=4"])
    assert expected.lead.wip_limit == 5 and expected.team.contractors == 4
    assert f"(hash {config_hash(expected)[:12]})" in result.stdout


def test_validate_bad_set(good: Path) -> None:
    result = invoke(main, "validate", good, "--set", "lead.wip_limit=0")
    assert result.exit_code == 2
    assert (
        result.stderr == "error: --set lead.wip_limit=0: expected an integer >= 1 or null, got 0\n"
    )


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("lead.wip_limit", "error: --set lead.wip_limit: expected KEY=VALUE"),
        ("lead.nope=3", "error: --set lead.nope: no such key 'nope' under lead"),
    ],
)
def test_validate_malformed_or_unknown_set(good: Path, assignment: str, message: str) -> None:
    result = invoke(main, "validate", good, "--set", assignment)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_validate_missing_overlay(tmp_path: Path, good: Path) -> None:
    result = invoke(main, "validate", good, "--overlay", tmp_path / "none.yaml")
    assert result.exit_code == 2
    assert result.stderr == f"error: no such config file: {tmp_path / 'none.yaml'}\n"


@pytest.mark.parametrize(
    "args", [("validate",), ("validate", "--bogus", "x.yaml"), ("nonsense",), ("schema", "--x")]
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = invoke(main, *args)
    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_schema_prints_json_schema() -> None:
    result = invoke(main, "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "flowsim configuration"
    assert "description" in schema["$defs"]["Lead"]["properties"]["capacity_hours_per_week"]


def test_schema_markdown_to_file(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "configuration.md"
    result = invoke(main, "schema", "--markdown", "--out", out)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("# Configuration reference\n")
    assert invoke(main, "schema", "--markdown").stdout == out.read_text(encoding="utf-8")


def test_schema_unwritable_out(tmp_path: Path) -> None:
    blocker = write(tmp_path, "file", "x")
    result = invoke(main, "schema", "--out", blocker / "schema.json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write {blocker / 'schema.json'}: ")


# --- the pieces other commands reuse ---------------------------------------------------------


@click.command()
@click.argument("config", type=click.Path())
@config_options
def _demo(config: str, overlays: tuple[str, ...], sets: tuple[str, ...]) -> None:
    params = load_or_exit(config, overlays, sets)
    click.echo(f"{params.name} {params.lead.wip_limit}")


def test_config_options_and_load_or_exit(tmp_path: Path, good: Path) -> None:
    overlay = write(tmp_path, "o.yaml", "name: layered\n")
    result = invoke(_demo, good, "--overlay", overlay, "--set", "lead.wip_limit=7")
    assert (result.exit_code, result.stdout) == (0, "layered 7\n")
    help_text = invoke(_demo, "--help").stdout
    assert "--overlay FILE" in help_text and "--set KEY=VALUE" in help_text


def test_load_or_exit_reports_and_exits_2(bad: Path) -> None:
    result = invoke(_demo, bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:2: lead.capacity_hours_per_week: ")


def test_exit_on_config_error() -> None:
    @click.command()
    def boom() -> None:
        with exit_on_config_error():
            raise ConfigError("expected a number, got 'x'", source="c.yaml", line=4, key="a.b")

    result = invoke(boom)
    assert result.exit_code == 2
    assert result.stderr == "error: c.yaml:4: a.b: expected a number, got 'x'\n"


def test_group_catches_a_stray_config_error() -> None:
    group = type(main)(name="flowsim")

    @group.command()
    def careless() -> None:
        raise ConfigError("no such config file: x.yaml")

    result = invoke(group, "careless")
    assert result.exit_code == 2
    assert result.stderr == "error: no such config file: x.yaml\n"
