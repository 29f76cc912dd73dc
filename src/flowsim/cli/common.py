"""What every command shares: the config options, and how bad input is reported."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from flowsim.model.params import Params

F = TypeVar("F", bound=Callable[..., Any])

BAD_INPUT = 2
"""Exit status for bad input; click uses the same for usage errors."""


def config_options(command: F) -> F:
    """Add ``--overlay FILE`` and ``--set KEY=VALUE`` (both repeatable) to a command.

    The command receives them as the keyword arguments ``overlays`` and
    ``sets`` (tuples of str), ready for :func:`load_or_exit`.
    """
    # click shows options in decorator order, which is the reverse of application.
    command = click.option(
        "--set",
        "sets",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override one parameter, e.g. lead.wip_limit=3 (VALUE is read as YAML). Repeatable.",
    )(command)
    command = click.option(
        "--overlay",
        "overlays",
        multiple=True,
        type=click.Path(),
        metavar="FILE",
        help="Partial config deep-merged over CONFIG, in the order given. Repeatable.",
    )(command)
    return command


def report(message: str) -> None:
    """Print one ``error: ...`` line on standard error."""
    click.echo(f"error: {message}", err=True)


def fail(message: str) -> NoReturn:
    """Report bad input and exit with status 2."""
    report(message)
    sys.exit(BAD_INPUT)


@contextlib.contextmanager
def exit_on_config_error() -> Iterator[None]:
    """Turn a :class:`ConfigError` raised in the block into :func:`fail`."""
    from flowsim.config import ConfigError

    try:
        yield
    except ConfigError as exc:
        fail(str(exc))


def load_or_exit(config: str, overlays: Iterable[str] = (), sets: Iterable[str] = ()) -> Params:
    """Load a config for a command, or report the problem and exit with status 2.

    Parameters
    ----------
    config : str
        The config file, as the user typed it (messages repeat it verbatim).
    overlays, sets : iterable of str
        As received from :func:`config_options`.
    """
    from flowsim.config import ConfigError, load_config

    try:
        return load_config(config, overlays, sets)
    except ConfigError as exc:
        fail(str(exc))


def _warn_oversubscribed(ctx: click.Context, param: click.Parameter, value: int | None) -> Any:
    cores = os.cpu_count() or 1
    if value is not None and value > cores:
        click.echo(
            f"warning: --workers {value} on {cores} cores: the extra workers only share "
            "the cores (and hold memory each)",
            err=True,
        )
    return value


workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    callback=_warn_oversubscribed,
    help="Worker processes (default: every core).",
)


def output_options(command: F) -> F:
    """--json and --quiet: what a command prints on standard output."""
    command = click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="Print nothing but errors and warnings (the results are still written).",
    )(command)
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print the results as one JSON document instead of the table.",
    )(command)


def json_records(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows for JSON, NaN as null (JSON has no NaN)."""
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return records


force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into --out even when it holds other results (they are replaced).",
)
scheduler_option = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on a Dask distributed scheduler (pip install 'flowsim[dask]').",
)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged (click's test runner
    and notebooks swap it), as ``flowsim: ...``."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("flowsim: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def be_verbose(on: bool) -> None:
    """With ``on``, the ``flowsim`` logger's INFO lines go to standard error as
    ``flowsim: ...`` (the library logs what it does; by default nobody listens);
    without, they go nowhere again."""
    logger = logging.getLogger("flowsim")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.INFO if on else logging.WARNING)


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``-v`` given to the group or to the command: either turns it on for the run."""
    root = ctx.find_root()
    if value:
        root.meta["flowsim.verbose"] = True
    be_verbose(bool(root.meta.get("flowsim.verbose")))


def verbose_option() -> click.Option:
    """``-v/--verbose`` for one command (see :func:`be_verbose`)."""
    return click.Option(
        ["-v", "--verbose"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_verbose,
        help="Say what is done as it is done, on standard error.",
    )


def claim_or_exit(
    folder: Any, command: str, own: Iterable[str], force: bool, **identity: Any
) -> None:
    """Refuse, with one line and exit 2, to write ``command``'s results into a folder
    holding other results (see :func:`flowsim.storage.claim_folder`)."""
    from flowsim.storage import FolderTaken, claim_folder

    try:
        claim_folder(folder, {"command": command, **identity}, force, own)
    except FolderTaken as exc:
        fail(str(exc))
