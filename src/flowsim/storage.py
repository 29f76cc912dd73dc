"""Results folders: frames as Parquet (and CSV for summaries) plus a manifest, written atomically.

Every file is written under a temporary name in the target folder and renamed
into place, so an interrupted run never leaves a half-written file behind; the
manifest is written last and marks the folder complete.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.version import __version__

log = logging.getLogger("flowsim")
MANIFEST = "manifest.json"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # mkstemp creates private files; results are ordinary files, so honour the umask.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)


def write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write(path, write)


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write a frame as Parquet or CSV, by the file's suffix."""
    if path.suffix == ".csv":
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def environment() -> dict[str, str]:
    """Versions that matter for reproducing a result."""
    import numpy
    import simpy

    return {
        "flowsim": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "simpy": simpy.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
    }


def write_manifest(out: Path, fields: dict[str, Any]) -> None:
    manifest = {
        "flowsim_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
        "environment": environment(),
    }
    write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
    log.info(f"wrote {out}/ (manifest.json last)")


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a flowsim results folder (no {MANIFEST})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# What a study writes before its manifest, which it writes last: a folder holding only
# these is a study interrupted before it finished, and resuming into it is the point.
_STUDY_FILES = frozenset(
    {
        "replications",
        "configs",
        "warmup.csv",
        "per_replication.parquet",
        "per_replication.csv",
        "scenarios.csv",
        "differences.csv",
        "timeseries.parquet",
        "customers.parquet",
    }
)


class FolderTaken(ValueError):
    """A results folder holds something other than what is about to be written."""


def claim_folder(
    folder: Path,
    identity: dict[str, Any],
    force: bool = False,
    own: Iterable[str] = _STUDY_FILES,
) -> None:
    """Refuse to write into ``folder`` when it holds other results.

    A missing or empty folder is free; so is one whose manifest matches every item
    of ``identity`` (the same run or study: rerunning it resumes or refreshes it),
    and one holding only files of the kind about to be written, ``own`` (names or
    patterns such as ``*.png``; by default a study's): an interrupted one, stopped
    before its manifest. A folder of other flowsim results, or a non-empty folder that holds none,
    is refused unless ``force``: a mistyped ``--out`` must never replace what a user
    already computed.
    """
    if not folder.exists():
        # Say now, not after every replication, that the folder cannot be made.
        parent = next(p for p in folder.absolute().parents if p.exists())
        if not parent.is_dir():
            raise FolderTaken(f"cannot create {folder}: {parent} is a file")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise FolderTaken(f"cannot create {folder}: {parent} is not writable")
        return
    if not folder.is_dir():
        raise FolderTaken(f"{folder} is a file, not a results folder: choose another --out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FolderTaken(f"cannot write into {folder}: it is not writable")
    # Dot-files are flowsim's lock and the temporary files of an interrupted write.
    entries = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    patterns = list(own)
    if force or all(any(fnmatch.fnmatchcase(e, p) for p in patterns) for e in entries):
        return
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError):
        raise FolderTaken(
            f"{folder} is not empty and holds no flowsim results: choose another --out, "
            "or --force to write into it"
        ) from None
    if any(manifest.get(k) != v for k, v in identity.items()):
        raise FolderTaken(
            f"{folder} holds {_describe(manifest)}: choose another --out, or --force to "
            "replace them"
        )


LOCK = ".lock"


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` while a study writes into ``folder``, and clear what an
    interrupted writer left there (temporary files).

    A second study into the same folder is refused with :class:`FolderTaken` rather
    than mixing its tables with the first's. The lock is the operating system's
    (``flock``), so it ends with its process however that ends; where there is no
    ``fcntl`` (Windows), there is no lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    with open(folder / LOCK, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise FolderTaken(
                f"another flowsim ({holder}) is writing into {folder}: wait for it to "
                "finish, or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        for stale in folder.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _describe(manifest: dict[str, Any]) -> str:
    """What a results folder holds, in a few words."""
    seed = manifest.get("seed")
    if manifest.get("study"):
        return f"the results of study {manifest['study']!r} (seed {seed})"
    if manifest.get("command") == "run":
        digest = str(manifest.get("config_hash", ""))[:12]
        name = manifest.get("config_name")
        return f"the results of another run ({name!r}, config hash {digest}, seed {seed})"
    return f"the results of flowsim {manifest.get('command', 'of another kind')}"


def write_run(
    out: Path,
    reps: Any,
    stats: pd.DataFrame,
    manifest: dict[str, Any],
    config_yaml: str,
) -> None:
    """Write the frames of a ``runner.Replications``, its statistics, config and manifest."""
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", config_yaml)
    if len(reps.events):
        write_frame(out / "events.parquet", reps.events)
    else:
        (out / "events.parquet").unlink(missing_ok=True)  # an earlier run's, now stale
    write_frame(out / "timeseries.parquet", reps.timeseries)
    write_frame(out / "customers.parquet", reps.customers)
    write_frame(out / "summary.parquet", reps.per_rep)
    write_frame(out / "summary.csv", reps.per_rep)
    write_frame(out / "summary_stats.csv", stats)
    write_manifest(out, manifest)


class ReplicationStore:
    """Finished replications, one pair of files each, so an interrupted study resumes.

    A replication lives at ``<root>/<scenario>-<confighash12>-seed<root seed>/rep-NNNN.json``
    (its summary), ``.parquet`` (its daily time series) and ``.customers.parquet``;
    the summary is written last, so a replication counts as stored only when all
    are complete.  The
    config hash and the study's root seed in the folder name mean that an edited
    scenario or a new seed never reuses stale replications; the flowsim version in
    each summary, that another version of flowsim recomputes them rather than mixing
    its results with this one's.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(
        self, scenario: str, config_hash: str, seed: int, replication: int
    ) -> tuple[Path, Path, Path]:
        folder = self.root / f"{safe_name(scenario)}-{config_hash[:12]}-seed{seed}"
        stem = f"rep-{replication:04d}"
        return (
            folder / f"{stem}.json",
            folder / f"{stem}.parquet",
            folder / f"{stem}.customers.parquet",
        )

    def load(
        self, scenario: str, config_hash: str, seed: int, replication: int
    ) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame] | None:
        paths = self._paths(scenario, config_hash, seed, replication)
        summary_path, series_path, customers_path = paths
        if not all(p.is_file() for p in paths):
            return None
        try:
            record = json.loads(summary_path.read_text(encoding="utf-8"))
            series = pd.read_parquet(series_path)
            customers = pd.read_parquet(customers_path)
        except (OSError, ValueError):
            return None  # damaged by a crash mid-write: compute it again
        if record.get("config_hash") != config_hash or record.get("seed") != seed:
            return None
        if record.get("flowsim_version") != __version__:
            return None  # another flowsim may simulate the same config differently

        summary = {
            k: (float("nan") if v is None else float(v)) for k, v in record["summary"].items()
        }
        return summary, series, customers

    def save(
        self,
        scenario: str,
        config_hash: str,
        seed: int,
        replication: int,
        summary: dict[str, float],
        series: pd.DataFrame,
        customers: pd.DataFrame,
    ) -> None:
        summary_path, series_path, customers_path = self._paths(
            scenario, config_hash, seed, replication
        )
        write_frame(series_path, series)
        write_frame(customers_path, customers)
        record = {
            "scenario": scenario,
            "replication": replication,
            "config_hash": config_hash,
            "seed": seed,
            "flowsim_version": __version__,
            # NaN is not JSON: store it as null and read it back as NaN.
            "summary": {k: (None if v != v else v) for k, v in summary.items()},
        }
        write_text(summary_path, json.dumps(record) + "\n")


def safe_name(name: str) -> str:
    """A scenario name as a file name."""
    return "".join(c if c.isalnum() or c in "-_.=,[]+" else "_" for c in name)


@dataclass
class StudyResults:
    """A study's results folder (written by ``flowsim experiment``, ``compare`` or ``sweep``).

    Attributes
    ----------
    folder : Path
    manifest : dict
        Study name, seed, replications, reference, metrics, scenarios (names,
        overlays, sets, config hashes, resolved configs), versions.
    per_rep : DataFrame
        One row per (scenario, replication), a column per summary metric.
    scenarios : DataFrame
        Mean and 95% CI per scenario and metric, with the scenario's share of
        unstable replications and whether the metric's mean depends on the horizon
        (columns ``unstable_share`` and ``horizon_dependent``; see
        :func:`flowsim.stats.scenario_table`; absent from folders written before them).
    differences : DataFrame
        Paired differences of each scenario from the reference, per metric.
    timeseries : DataFrame
        Daily levels per (scenario, replication).
    customers : DataFrame
        One row per customer per (scenario, replication).
    warmup : DataFrame or None
        The MSER-5 pilot series, when the warm-up was chosen that way.
    """

    folder: Path
    manifest: dict[str, Any]
    per_rep: pd.DataFrame
    scenarios: pd.DataFrame
    differences: pd.DataFrame
    timeseries: pd.DataFrame
    customers: pd.DataFrame
    warmup: pd.DataFrame | None = None

    @property
    def names(self) -> list[str]:
        """Scenario names in study order."""
        return [s["name"] for s in self.manifest["scenarios"]]

    @property
    def reference(self) -> str:
        return str(self.manifest["reference"])

    @property
    def metrics(self) -> list[str]:
        return list(self.manifest["metrics"])


def read_study(folder: str | os.PathLike[str]) -> StudyResults:
    """Read a study's results folder (see :class:`StudyResults`)."""
    path = Path(folder)
    manifest = read_manifest(path)
    if "scenarios" not in manifest:
        raise ValueError(f"{folder} holds a single run, not a study (use flowsim run's files)")
    warmup = path / "warmup.csv"
    customers = path / "customers.parquet"
    return StudyResults(
        folder=path,
        manifest=manifest,
        per_rep=pd.read_parquet(path / "per_replication.parquet"),
        scenarios=pd.read_csv(path / "scenarios.csv"),
        differences=pd.read_csv(path / "differences.csv"),
        timeseries=pd.read_parquet(path / "timeseries.parquet"),
        customers=pd.read_parquet(customers) if customers.is_file() else pd.DataFrame(),
        warmup=pd.read_csv(warmup) if warmup.is_file() else None,
    )
