"""anonymizer.planning.planner: one place decides the plan; the plan is typed and frozen; no import circle."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file

from anonymizer.config import ProfileName, build_config
from anonymizer.planning.plan import Action, Plan
from anonymizer.planning.planner import make_plan
from anonymizer.reading.reader import read_dataset
from anonymizer.rules.options import DEFAULT_OPTIONS

BASIC = build_config(TEST_KEY, DEFAULT_OPTIONS)
PACSBIN = build_config(TEST_KEY, DEFAULT_OPTIONS, "pacsbin")
PACKAGE = Path(__file__).resolve().parent.parent / "anonymizer"


def _plan(name: str, config: object = BASIC, **kw: int) -> Plan:
    return make_plan(read_dataset(file(name).read_bytes()), config, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("config", [BASIC, PACSBIN], ids=["basic", "pacsbin"])
@pytest.mark.parametrize("name", ["CT_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "SC_rgb_rle.dcm"])
def test_every_step_has_a_typed_action(name: str, config: object) -> None:
    plan = _plan(name, config)
    assert type(plan.profile) is ProfileName
    steps = plan.steps()
    assert steps and all(type(s.action) is Action for s in steps)
    assert all(isinstance(item, tuple) for s in steps if s.items is not None for item in s.items)


def test_the_legacy_script_writes_its_own_operations() -> None:
    actions = {s.action for s in _plan("CT_small.dcm", PACSBIN).steps()}
    assert {Action.CTP_HASH, Action.CTP_HASHUID} <= actions
    assert Action.ctp("hashdate") is Action.CTP_HASHDATE
    with pytest.raises(ValueError):
        Action.ctp("remove")  # not an operation that writes a value


def test_plan_and_steps_are_frozen() -> None:
    plan = _plan("CT_small.dcm")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.redacted = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.dataset[0].action = Action.KEEP  # type: ignore[misc]
    assert isinstance(plan.dataset, tuple) and isinstance(plan.flags, tuple)


def test_the_redaction_is_an_input_of_the_plan() -> None:
    assert _plan("CT_small.dcm").redacted == 0
    plan = _plan("CT_small.dcm", redacted=4)
    assert plan.redacted == 4
    assert '"redacted": 4' in plan.to_json()


def test_plans_print_and_serialise_as_plain_strings() -> None:
    plan = _plan("CT_small.dcm")
    as_dicts = [s.to_dict() for s in plan.steps()]
    assert all(type(d["action"]) is str for d in as_dicts)
    assert {"X", "K", "U", "shift", "pseudonym", "mark"} <= {d["action"] for d in as_dicts}
    assert '"profile": "basic"' in plan.to_json()
    assert plan.format_text().startswith("profile: basic;")


def test_a_kept_sequence_has_its_items_planned() -> None:
    ds = pydicom.dcmread(file("rtplan.dcm"))
    plan = _plan("rtplan.dcm")
    seq = next(s for s in plan.dataset if s.keyword == "BeamSequence")
    assert seq.items is not None and len(seq.items) == len(ds.BeamSequence)
    assert seq.items[0][0].path.startswith("(300A,00B0)[0]>")


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package a module imports when it is loaded (TYPE_CHECKING blocks included: a circle
    that only type hints close is still a circle to read)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        for n in node.body if isinstance(node, ast.If) else [node]:
            if isinstance(n, ast.ImportFrom) and n.level == 1:
                names = [n.module.split(".")[0]] if n.module else [a.name for a in n.names]
                found |= set(names) & modules
    return found


def test_no_import_circle_in_the_package() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {m: _top_level_imports(PACKAGE / f"{m}.py", modules) for m in modules}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import circle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dep in sorted(graph[module]):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
