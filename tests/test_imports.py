"""What ``import flowsim`` costs, and how the package's modules may import each other.

``import flowsim`` and ``flowsim --version`` should start in a blink: the API's names
are imported on first use, so pandas, SciPy, matplotlib, pydantic, tqdm and Dask load
only when something needs them.  A study's worker processes import ``flowsim.runner``
to run a replication (when they are spawned rather than forked); that should not
bring the statistics', the progress bar's or the charts' libraries either.

The modules form layers, each importing (at module level) only from its own layer
and those below it:

    version < model < config < runner, stats, storage < study < reporting < cli

and nothing inside the package imports the package root (``flowsim/__init__.py``),
which imports nothing of the package but the version.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import flowsim

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "flowsim"
HEAVY = ("pandas", "scipy", "matplotlib", "pydantic", "tqdm", "dask", "distributed")

LAYERS = {
    "flowsim.version": 0,
    "flowsim.model": 1,
    "flowsim.config": 2,
    "flowsim.runner": 3,
    "flowsim.stats": 3,
    "flowsim.storage": 3,
    "flowsim.study": 4,
    "flowsim.data": 4,
    "flowsim.calibration": 4,
    "flowsim.sensitivity": 4,
    "flowsim.forecast": 4,
    "flowsim.fitting": 4,
    "flowsim.reporting": 5,
    "flowsim.cli": 6,
}


def loaded_after(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after running ``code`` in a fresh
    interpreter (flowsim's own modules by their full name)."""
    probe = (
        f"{code}\nimport sys\n"
        "print('\\n'.join(m if m.startswith('flowsim') else m.split('.')[0] "
        "for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return set(out.split())


# ---------------------------------------------------------------- what importing costs
def test_import_flowsim_loads_no_heavy_library():
    """``import flowsim`` loads none of the heavy libraries, nor the runner or storage."""
    loaded = loaded_after("import flowsim")
    assert not loaded & {*HEAVY, "flowsim.runner", "flowsim.storage", "flowsim.stats"}, loaded


def test_cli_help_and_version_load_no_heavy_library():
    """``flowsim --help`` and ``--version`` need click and the version, nothing else."""
    for option in ("--help", "--version"):
        code = (
            "from flowsim.cli import main\n"
            f"try:\n    main([{option!r}])\nexcept SystemExit:\n    pass"
        )
        loaded = loaded_after(code)
        assert not loaded & {*HEAVY, "flowsim.config", "flowsim.model"}, (option, loaded)


def test_flowsim_version_prints_the_version():
    script = Path(sys.executable).parent / "flowsim"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"flowsim, version {flowsim.__version__}"


def test_version_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert flowsim.__version__ == project["version"]


def test_a_worker_pays_only_for_what_it_runs():
    """A spawned worker imports ``flowsim.runner`` for ``replicate``: no SciPy (statistics),
    tqdm (the progress bar), matplotlib (charts) or Dask (another executor)."""
    loaded = loaded_after("import flowsim.runner")
    assert not loaded & {"scipy", "tqdm", "matplotlib", "dask", "distributed"}, loaded
    assert not loaded & {"flowsim.stats", "flowsim.study", "flowsim.reporting", "flowsim.cli"}


def test_scipy_loads_when_a_statistic_is_computed():
    assert "scipy" not in loaded_after("import flowsim.stats")
    assert "scipy" in loaded_after("import flowsim.stats\nflowsim.stats.mean_ci([1.0, 2.0])")


# ---------------------------------------------------------------- the API
@pytest.mark.parametrize("name", flowsim.__all__)
def test_every_public_name_resolves(name):
    assert getattr(flowsim, name) is not None
    assert name in dir(flowsim)


def test_public_names_come_from_their_modules():
    from flowsim.config import load_config
    from flowsim.runner import run_experiment
    from flowsim.storage import read_study
    from flowsim.study import run_study

    assert flowsim.load_config is load_config
    assert flowsim.run_experiment is run_experiment
    assert flowsim.read_study is read_study
    assert flowsim.run_study is run_study
    assert isinstance(flowsim.plots, ModuleType)
    assert flowsim.plots.__name__ == "flowsim.reporting.charts"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        flowsim.nope  # noqa: B018


# ---------------------------------------------------------------- layers
def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(PACKAGE.rglob("*.py"))
KNOWN = {module_name(p) for p in MODULES}


def module_level_imports(path: Path) -> list[str]:
    """The flowsim modules ``path`` imports when it is imported: not those imported
    inside functions (on use) or under ``if TYPE_CHECKING:`` (never at run time)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend(a.name for a in node.names if a.name.split(".")[0] == "flowsim")
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                if base.split(".")[0] == "flowsim":
                    # ``from package import submodule`` imports the submodule.
                    for alias in node.names:
                        sub = f"{base}.{alias.name}"
                        found.append(sub if sub in KNOWN else base)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit([n for n in getattr(node, field, []) if isinstance(n, ast.stmt)])
            for handler in getattr(node, "handlers", []):
                visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def layer(module: str) -> int:
    for prefix, level in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return level
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_modules_import_only_their_layer_and_below(path):
    name = module_name(path)
    imported = module_level_imports(path)
    assert "flowsim" not in imported, f"{name} imports the package root"
    if name == "flowsim":
        assert imported == ["flowsim.version"], imported
        return
    upward = [m for m in imported if layer(m) > layer(name)]
    assert not upward, f"{name} (layer {layer(name)}) imports {upward} from above it"


def test_no_import_circles():
    graph = {module_name(p): set(module_level_imports(p)) for p in MODULES}

    def walk(node: str, trail: list[str]) -> None:
        if node in trail:
            cycle = trail[trail.index(node) :] + [node]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        for target in sorted(graph.get(node, ())):
            if target != node:
                walk(target, [*trail, node])

    for name in sorted(graph):
        walk(name, [])
