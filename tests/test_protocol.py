"""The engine worker's contract (issue 11, item 9): one command table on each side, no pass-through.

static/protocol.mjs lists what the page may ask the worker; static/worker.mjs has exactly one handler per
entry; every Python command the worker sends is one of anonymizer.browser_api.Command, and each of those has
its handler in COMMANDS. Page modules ask through engines.mjs's typed functions, never by command name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anonymizer.browser_api import COMMANDS, Command, handle

STATIC = Path(__file__).resolve().parents[1] / "static"


def _page_commands() -> dict[str, str]:
    text = (STATIC / "protocol.mjs").read_text()
    table = text[text.index("export const Command") : text.index("});")]
    return dict(re.findall(r"^\s+([A-Z_]+): \"([a-z_]+)\"", table, re.M))


def test_the_page_protocol_lists_commands_and_no_pass_through() -> None:
    commands = _page_commands()
    assert len(commands) >= 9
    assert "call" not in commands.values()


def test_the_worker_has_one_handler_per_page_command_and_no_other() -> None:
    worker = (STATIC / "worker.mjs").read_text()
    start = worker.index("const handlers = {")
    table = worker[start : worker.index("\n};", start)]
    handled = re.findall(r"^\s+\[Command\.([A-Z_]+)\]:", table, re.M)
    assert sorted(handled) == sorted(_page_commands())
    assert 'cmd === "call"' not in worker


def test_every_python_command_the_worker_sends_is_in_the_python_table() -> None:
    worker = (STATIC / "worker.mjs").read_text()
    sent = set(re.findall(r"cmd: \"([a-z_]+)\"", worker))
    assert sent, "the worker calls Python"
    assert sent <= {c.value for c in Command}
    assert set(COMMANDS) == set(Command)


def test_page_modules_never_name_a_command() -> None:
    for path in STATIC.glob("*.mjs"):
        if path.name in {"protocol.mjs", "worker.mjs", "engines.mjs"}:
            continue
        text = path.read_text()
        assert "rpc(" not in text, path.name
        assert not re.search(r"cmd: \"", text), path.name


PASS_THROUGH = {"cmd": "call", "request": {"cmd": "describe"}}


@pytest.mark.parametrize("request_", [PASS_THROUGH, {"cmd": "eval"}, {}, []])
def test_python_answers_only_its_commands(request_: object) -> None:
    reply = json.loads(handle(json.dumps(request_)))
    assert reply["status"] == "error" and "unknown command" in reply["reason"]


def test_describe_through_the_table() -> None:
    reply = json.loads(handle(json.dumps({"cmd": "describe"})))
    assert reply["status"] == "ok" and reply["profiles"]
