"""The legacy "pacsbin" profile's script: an RSNA CTP DicomAnonymizer script in JSON form, loaded and checked.

The JSON form of a CTP script: ``variables`` (a list of ``{"name", "value"}``), ``rules`` (a list of
``{"enabled", "tag", "name", "operation"}``, the tag as 8 hex digits, the operation as ``{"operationName",
"operationParameters"}`` where only ``append`` and ``always`` take nested ``param``/``date``/``time``
operations) and ``options`` (``removePrivateGroups``, ``removeOverlays``, ``removeCurves``,
``removeDisabled``, ``strict``, ``keepGroupGGGG`` flags and ``sequenceAction``). ``load_script`` rejects
anything else with a ScriptError (naming the rule and tag when a rule is at fault): unknown keys or
operations, wrong parameter counts, duplicate tags or variables, and in enabled rules (disabled ones never
run) element names that do not resolve and variables that are not defined. What the operations compute is
ctp.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

from anonymizer.errors import ScriptError
from anonymizer.legacy.ctp import CtpOperation, ctp_param, resolve_element_tag

__all__ = ["CtpOptions", "CtpRule", "CtpScript", "load_builtin_pacsbin", "load_script"]

OPERATIONS = frozenset(
    {"keep", "remove", "empty", "hash", "hashuid", "hashdate", "require", "always", "append", "param"}
)
NESTED_OPERATIONS = frozenset({"param", "date", "time"})


@dataclass(frozen=True)
class CtpRule:
    tag: int
    name: str
    enabled: bool
    operation: CtpOperation


@dataclass(frozen=True)
class CtpOptions:
    remove_private_groups: bool = False
    remove_overlays: bool = False
    remove_curves: bool = False
    remove_disabled: bool = False
    strict: bool = False
    sequence_action: str = "remove"
    keep_groups: frozenset[int] = frozenset()


@dataclass(frozen=True)
class CtpScript:
    variables: Mapping[str, str]
    rules: Mapping[int, CtpRule]
    options: CtpOptions = field(default_factory=CtpOptions)


# ---------------------------------------------------------------- loading

_ARITY = {"keep": (0, 0), "remove": (0, 0), "empty": (0, 0), "require": (0, 0), "hash": (1, 2)}
_ARITY |= {"hashuid": (2, 2), "hashdate": (2, 2), "param": (1, 1), "date": (0, 1), "time": (0, 1)}


def _operation(obj: object, nested: bool) -> CtpOperation:
    if not isinstance(obj, dict) or set(obj) - {"operationName", "operationParameters"}:
        raise ScriptError(f"bad operation {obj!r}")
    name, raw = obj.get("operationName"), obj.get("operationParameters", [])
    if not isinstance(raw, list):
        raise ScriptError(f"bad parameters {raw!r}")
    if name not in (NESTED_OPERATIONS if nested else OPERATIONS):
        raise ScriptError(f"unknown operation {name!r}")
    params: list[str | CtpOperation] = []
    for p in raw:
        if isinstance(p, dict) and name in ("append", "always"):
            params.append(_operation(p, nested=True))
        elif isinstance(p, str):
            params.append(p)
        else:
            raise ScriptError(f"bad parameter {p!r} for {name!r}")
    lo, hi = _ARITY.get(name, (0, 1_000_000))
    if not lo <= len(params) <= hi:
        raise ScriptError(f"{name!r} takes {lo}..{hi} parameters, got {len(params)}")
    return CtpOperation(name, tuple(params))


def _check_references(op: CtpOperation, tag: int, variables: Mapping[str, str]) -> None:
    """Element names must resolve and variables exist (enabled rules only: disabled ones never run)."""
    elements = {"hash": (0,), "hashuid": (1,), "hashdate": (0, 1)}.get(op.name, ())
    for i, p in enumerate(op.params):
        if isinstance(p, CtpOperation):
            _check_references(p, tag, variables)
        elif i in elements:
            resolve_element_tag(p, tag)
        elif op.name in ("hash", "hashuid", "param"):
            ctp_param(p, variables)


_FLAGS = ("removePrivateGroups", "removeOverlays", "removeCurves", "removeDisabled", "strict")


def _options(obj: object) -> CtpOptions:
    if not isinstance(obj, dict):
        raise ScriptError("options must be an object")
    for key, value in obj.items():
        if not (
            (key == "sequenceAction" and isinstance(value, str))
            or (isinstance(value, bool) and (key in _FLAGS or re.fullmatch(r"keepGroup[0-9a-fA-F]{4}", key)))
        ):
            raise ScriptError(f"bad option {key!r}: {value!r}")
    return CtpOptions(
        remove_private_groups=obj.get("removePrivateGroups", False),
        remove_overlays=obj.get("removeOverlays", False),
        remove_curves=obj.get("removeCurves", False),
        remove_disabled=obj.get("removeDisabled", False),
        strict=obj.get("strict", False),
        sequence_action=obj.get("sequenceAction", "remove"),
        keep_groups=frozenset(int(k[9:], 16) for k, v in obj.items() if k.startswith("keepGroup") and v),
    )


def load_script(text: str | bytes) -> CtpScript:
    """Parse and validate a JSON CTP script; every problem is a ScriptError naming the rule and tag."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScriptError(f"not JSON: {exc}") from exc
    if (
        not isinstance(doc, dict)
        or set(doc) - {"variables", "rules", "options"}
        or not isinstance(doc.get("rules"), list)
        or not isinstance(doc.get("variables", []), list)
    ):
        raise ScriptError("expected an object with a 'rules' list, and 'variables' list / 'options' object")
    variables: dict[str, str] = {}
    for v in doc.get("variables", []):
        if (
            not (
                isinstance(v, dict)
                and set(v) == {"name", "value"}
                and isinstance(v["name"], str)
                and isinstance(v["value"], str)
            )
            or v["name"] in variables
        ):
            raise ScriptError(f"bad or duplicate variable {v!r}")
        variables[v["name"]] = v["value"]
    rules: dict[int, CtpRule] = {}
    for index, r in enumerate(doc["rules"]):
        where = f"rule {index} ({r.get('tag') if isinstance(r, dict) else '?'})"
        try:
            if not isinstance(r, dict) or set(r) - {"enabled", "tag", "name", "operation"}:
                raise ScriptError("expected keys enabled, tag, name, operation")
            tag_text, enabled, name = r.get("tag"), r.get("enabled"), r.get("name", "")
            if not isinstance(tag_text, str) or not re.fullmatch(r"[0-9a-fA-F]{8}", tag_text):
                raise ScriptError("tag must be 8 hex digits")
            if not isinstance(enabled, bool) or not isinstance(name, str):
                raise ScriptError("'enabled' must be a boolean and 'name' a string")
            tag = int(tag_text, 16)
            if tag in rules:
                raise ScriptError(f"duplicate tag (also rule for {rules[tag].name!r})")
            op = _operation(r.get("operation"), nested=False)
            if enabled:
                _check_references(op, tag, variables)
        except ScriptError as exc:
            raise ScriptError(f"{where}: {exc}") from None
        rules[tag] = CtpRule(tag, name, enabled, op)
    return CtpScript(MappingProxyType(variables), MappingProxyType(rules), _options(doc.get("options", {})))


@cache
def load_builtin_pacsbin() -> CtpScript:
    """The packaged Pacsbin script (anonymizer/data/pacsbin-anonymization-script.json), parsed once."""
    data = resources.files("anonymizer").joinpath("data/pacsbin-anonymization-script.json").read_bytes()
    return load_script(data)
