"""What a change to the rules does to real files: snapshot every public test file's plan, then compare.

    python tools/plan_diff.py snapshot /tmp/plans-before     # before the change
    python tools/plan_diff.py compare /tmp/plans-before      # after: every element whose fate changed

Each file is planned with the test key and the default options (as tests/test_engine.py does); a plan
step is compared by path on its action and its new value. The comparison groups changes by the rule that
now decides them, so a reviewer sees at a glance that only what the new rules remove, scrub or stop
shifting moved.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from corpus import public_files  # noqa: E402

from anonymizer.config import Config  # noqa: E402
from anonymizer.engine import plan_bytes  # noqa: E402
from anonymizer.errors import DeidentificationError  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402

CONFIG = Config(key=SecretKey(bytes(range(32))))  # the tests' key (tests/conftest.py TEST_KEY)


def _plans() -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for path in public_files():
        try:
            plan = plan_bytes(path.read_bytes(), CONFIG, path=path.name)
        except DeidentificationError as exc:
            out[path.name] = {"refused": {"action": "refused", "new": exc.reason, "rule": ""}}
            continue
        out[path.name] = {
            d["path"]: {
                "action": d["action"], "new": str(d["new"]), "rule": d["rule"], "keyword": d["keyword"]
            }
            for d in (s.to_dict() for s in plan.steps())
            if d["keyword"] not in ("DeidentificationMethod", "LongitudinalTemporalInformationModified")
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["snapshot", "compare"])
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    plans = _plans()
    if args.command == "snapshot":
        args.dir.mkdir(parents=True, exist_ok=True)
        (args.dir / "plans.json").write_text(json.dumps(plans, indent=0, ensure_ascii=False))
        print(f"{len(plans)} plans written to {args.dir / 'plans.json'}")
        return 0
    before = json.loads((args.dir / "plans.json").read_text())
    rules: Counter[str] = Counter()
    lines = []
    for name in sorted(set(before) | set(plans)):
        old, new = before.get(name, {}), plans.get(name, {})
        for path in sorted(set(old) | set(new)):
            a, b = old.get(path), new.get(path)
            if a is not None and b is not None and (a["action"], a["new"]) == (b["action"], b["new"]):
                continue
            was = "absent" if a is None else f"{a['action']} {a['new'][:30]!r}"
            now = "absent" if b is None else f"{b['action']} {b['new'][:30]!r}"
            keyword = (b or a or {}).get("keyword", "")
            rule = (b or {}).get("rule", "(step gone)")
            rules[rule.split(":")[0] if b else rule] += 1
            lines.append(f"{name} {path} {keyword}: {was} -> {now} [{rule}]")
    print("\n".join(lines))
    print(f"\n{len(lines)} elements changed; by rule:")
    for rule, count in rules.most_common():
        print(f"  {count:5d}  {rule}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
