"""List the HTTP handlers that are long or commit themselves (`make handlers`).

A handler should parse, call a domain service and render. This lists, per handler
(a function under a blueprint route decorator in app/), its length in lines and whether
it commits (``db.session.commit()``, ``_commit(...)``, ``run_and_flash``), so the next
refactoring step is visible. ``--max-lines`` sets the length limit (15); ``--strict``
exits 1 when a handler commits.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
COMMITS = {"commit", "_commit", "run_and_flash", "_commit_or_error"}


def handlers(root: Path):
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            routes = [
                d
                for d in node.decorator_list
                if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
            ]
            if not routes:
                continue
            calls = {
                c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
                for c in ast.walk(node)
                if isinstance(c, ast.Call)
            }
            body_lines = node.end_lineno - node.body[0].lineno + 1
            yield path, node.name, node.lineno, body_lines, tuple(sorted(calls & COMMITS))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=15)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    rows = list(handlers(root / "app"))
    long_ = [r for r in rows if r[3] > args.max_lines]
    committing = [r for r in rows if r[4]]
    print(f"{len(rows)} handlers; {len(long_)} over {args.max_lines} lines; {len(committing)} commit themselves")
    for path, name, line, n, commits in sorted(set(long_) | set(committing), key=lambda r: (str(r[0]), r[2])):
        flags = []
        if n > args.max_lines:
            flags.append(f"{n} lines")
        if commits:
            flags.append("commits via " + ", ".join(commits))
        print(f"  {path.relative_to(root)}:{line} {name}: {'; '.join(flags)}")
    return 1 if args.strict and committing else 0


if __name__ == "__main__":
    sys.exit(main())
