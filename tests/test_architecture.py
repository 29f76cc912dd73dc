"""The house rules of the model, as docs/architecture.md states them.

* Inside ``flowsim.model`` the modules form layers: the foundations (calendar,
  catalogue, distributions, entities, ...), the records and the ledger, the people
  and the customer base, the mechanisms, the parameters, the company (the wiring),
  and the results.  A module imports only from its own layer and those below, so a
  mechanism never imports the company that builds it, and no mechanism imports
  another.
* Every mechanism names the config section it owns and declares the event-log rows
  it writes; every row a run writes is declared by a mechanism or a core module, and
  every declared row is written by some run of the golden-master configs.
* No module of the package is much longer than a reader can hold: about 500 lines.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from flowsim.model import Params, simulate
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms import MECHANISMS
from flowsim.model.team import TeamAtWork
from test_imports import MODULES, PACKAGE, module_level_imports, module_name

MODEL_LAYERS = {
    "flowsim.model.calendar": 0,
    "flowsim.model.catalogue": 0,
    "flowsim.model.clock": 0,
    "flowsim.model.distributions": 0,
    "flowsim.model.effects": 0,
    "flowsim.model.entities": 0,
    "flowsim.model.section": 0,
    "flowsim.model.stability": 0,
    "flowsim.model.streams": 0,
    "flowsim.model.state": 0,
    "flowsim.model.recorder": 1,
    "flowsim.model.eventlog": 1,
    "flowsim.model.ledger": 2,
    "flowsim.model.backlog": 2,
    "flowsim.model.mechanism": 2,
    "flowsim.model.lead": 3,
    "flowsim.model.team": 3,
    "flowsim.model.customers": 3,
    "flowsim.model.mechanisms": 4,
    "flowsim.model.params": 5,
    "flowsim.model.start": 5,
    "flowsim.model.company": 6,
    "flowsim.model.reduction": 6,
    "flowsim.model.results": 7,
    "flowsim.model": 8,
}
MAX_LINES = 520


def model_layer(module: str) -> int:
    best = max((p for p in MODEL_LAYERS if module == p or module.startswith(p + ".")), key=len)
    return MODEL_LAYERS[best]


MODEL_MODULES = [p for p in MODULES if module_name(p).startswith("flowsim.model")]


@pytest.mark.parametrize("path", MODEL_MODULES, ids=lambda p: module_name(p))
def test_model_modules_import_only_their_layer_and_below(path: Path) -> None:
    name = module_name(path)
    imported = [m for m in module_level_imports(path) if m.startswith("flowsim.model")]
    upward = [m for m in imported if model_layer(m) > model_layer(name)]
    assert not upward, f"{name} imports {upward} from above it"


@pytest.mark.parametrize(
    "path",
    [p for p in MODEL_MODULES if p.parent.name == "mechanisms" and p.name != "__init__.py"],
    ids=lambda p: module_name(p),
)
def test_no_mechanism_imports_another(path: Path) -> None:
    siblings = [m for m in module_level_imports(path) if m.startswith("flowsim.model.mechanisms")]
    assert not siblings, f"{module_name(path)} imports {siblings}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_is_too_long(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines"


@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: m.__name__)
def test_every_mechanism_owns_a_section_of_the_config(mechanism: type) -> None:
    section: object = Params()
    for part in mechanism.section.split("."):
        assert part in type(section).model_fields, f"{mechanism.__name__}: no {part!r}"
        section = getattr(section, part)
    assert isinstance(mechanism.switched_on(section), bool)


@cache
def events_written() -> frozenset[str]:
    """Every ``event`` value written by a run of the golden-master configs."""
    from test_golden_master import SEED, _configs

    events: set[str] = set()
    for params in _configs().values():
        if not params.simulation.event_log:
            continue
        log = simulate(params, seed=SEED).events
        events |= set(log["event"].astype(str))
    return frozenset(events)


DECLARED = {
    owner.__name__: set(owner.events) for owner in (*MECHANISMS, Ledger, LeadEngineer, TeamAtWork)
}


def test_every_row_written_is_declared() -> None:
    declared = set().union(*DECLARED.values())
    assert events_written() <= declared, events_written() - declared


@pytest.mark.parametrize("owner", sorted(DECLARED), ids=str)
def test_every_declared_row_is_written(owner: str) -> None:
    assert DECLARED[owner] <= events_written(), DECLARED[owner] - events_written()


def _defined_names(init: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(init.read_text())):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_no_module_shadows_a_name_of_its_package() -> None:
    """Importing ``pkg.x`` sets the attribute ``x`` of ``pkg``: a module named like a
    function its package's ``__init__`` defines or imports replaces that function as
    soon as anything imports the module (``flowsim.cli.report`` did to ``report``)."""
    clashes = []
    for init in PACKAGE.rglob("__init__.py"):
        modules = {p.stem for p in init.parent.glob("*.py")} | {
            p.name for p in init.parent.iterdir() if (p / "__init__.py").is_file()
        }
        clashes += [f"{init.parent.name}.{m}" for m in sorted(modules & _defined_names(init))]
    assert not clashes, clashes
