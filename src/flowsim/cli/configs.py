"""The commands about config files: ``flowsim validate``, ``schema`` and ``init``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from flowsim.cli.common import BAD_INPUT, config_options, fail, force_option, report


@click.command("validate")
@click.argument("configs", nargs=-1, required=True, type=click.Path(), metavar="CONFIG...")
@config_options
def validate_command(
    configs: tuple[str, ...], overlays: tuple[str, ...], sets: tuple[str, ...]
) -> None:
    """Check config files and print the hash of each valid one.

    The overlays and --set values apply to every CONFIG. All files are checked;
    the exit status is 2 if any is invalid.
    """
    from flowsim.config import ConfigError, config_hash, load_config

    failed = False
    for path in configs:
        try:
            params = load_config(path, overlays, sets)
        except ConfigError as exc:
            report(str(exc))
            failed = True
        else:
            click.echo(f"ok  {path} (hash {config_hash(params)[:12]})")
    if failed:
        sys.exit(BAD_INPUT)


@click.command("schema")
@click.option("--markdown", is_flag=True, help="The Markdown reference instead of JSON Schema.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write to FILE (e.g. docs/configuration.md) instead of standard output.",
)
def schema_command(markdown: bool, out: str | None) -> None:
    """Print the config format: JSON Schema, or a Markdown reference of every parameter."""
    from flowsim.config import json_schema, reference_markdown

    text = reference_markdown() if markdown else json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"wrote {out}", err=True)


@click.command("init")
@click.argument("file", type=click.Path(dir_okay=False), default="company.yaml", metavar="[FILE]")
@force_option
def init_command(file: str, force: bool) -> None:
    """Write a config to start from (default company.yaml): every parameter at its
    default, with its meaning, unit and source as a comment."""
    from flowsim.config.reference import commented_config
    from flowsim.model.params import Params
    from flowsim.storage import write_text

    path = Path(file)
    if path.exists() and not force:
        fail(f"{file} exists: choose another FILE, or --force to replace it")
    try:
        write_text(
            path, commented_config(Params(name=path.stem if _plain(path.stem) else "company"))
        )
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    click.echo(f"wrote {file}: edit its numbers, then `flowsim validate {file}`")


def _plain(name: str) -> bool:
    return bool(name) and not name.startswith(".") and all(c.isalnum() or c in "_-" for c in name)
