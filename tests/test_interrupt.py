"""A study killed by any signal leaves no process behind, SIGTERM stops it cleanly, a
second study into the same folder is refused while the first runs, and resuming gives
the same results as a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOWSIM = Path(sys.executable).parent / "flowsim"

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")


def study(tmp_path: Path) -> Path:
    """Long enough (a few seconds on two workers) to be killed while it runs."""
    spec = tmp_path / "long.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""\
            name: long
            base: {ROOT / "configs" / "baseline.yaml"}
            replications: 40
            seed: 5
            horizon_weeks: 30
            warmup_weeks: 2
            scenarios:
              - name: baseline
              - name: advisor
                overlays: [{ROOT / "configs" / "policies" / "advisor.yaml"}]
            """
        ),
        encoding="utf-8",
    )
    return spec


def descendants(pid: int) -> set[int]:
    """Every live process whose chain of parents leads to ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie has exited; only its exit code is left
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    def running(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    return {p for p in pids if running(p)}


def start(spec: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [FLOWSIM, "experiment", spec, "--out", out, "--workers", "2", "--no-report"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_running(process: subprocess.Popen[str], out: Path) -> set[int]:
    """Wait until the workers have stored a replication; return the workers' pids."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = list((out / "replications").rglob("rep-*.json"))
        workers = descendants(process.pid)
        if stored and len(workers) >= 2:
            return workers
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the study did not start")


def wait_gone(pids: set[int], seconds: float = 10) -> set[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_study_leaves_no_process_and_resumes_to_a_clean_runs_results(sig, tmp_path):
    spec = study(tmp_path)
    out = tmp_path / "killed"
    process = start(spec, out)
    workers = wait_until_running(process, out)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert not wait_gone(workers), "worker processes outlived their study"
    if sig == signal.SIGTERM:
        assert process.returncode == 130, stderr
        assert stderr.strip().splitlines()[-1].startswith("error: interrupted"), stderr
        assert "Traceback" not in stderr
    assert not (out / "manifest.json").exists()

    resumed = subprocess.run(
        [FLOWSIM, "experiment", spec, "--out", out, "--workers", "2", "--no-report"],
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "replications reused" in resumed.stdout
    assert not list(out.rglob(".*.tmp")), "temporary files of the killed run were left"
    clean = tmp_path / "clean"
    subprocess.run(
        [FLOWSIM, "experiment", spec, "--out", clean, "--workers", "2", "--no-report"],
        capture_output=True,
        check=True,
    )
    for name in ("per_replication.csv", "scenarios.csv", "differences.csv"):
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(clean / "timeseries.parquet")
    )


def test_a_second_study_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    spec = study(tmp_path)
    out = tmp_path / "busy"
    first = start(spec, out)
    try:
        wait_until_running(first, out)
        second = subprocess.run(
            [FLOWSIM, "experiment", spec, "--out", out, "--workers", "1", "--no-report"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert "another flowsim" in second.stderr and "is writing into" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert os.path.exists(out / ".lock")
