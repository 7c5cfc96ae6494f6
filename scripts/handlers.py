"""List the HTTP handlers that are long or commit themselves (`make handlers`).

A handler should parse, call a domain service and render; app/unit_of_work.py commits once at
the end of a successful request. This lists, per handler (a function under a blueprint route
decorator in app/), its length in lines and whether it commits (``db.session.commit()``,
``_commit(...)``, ``run_and_flash``, ``_commit_or_error``), and any other function of a views
module that commits (a helper the handlers call).

A handler that must commit before the end of the request is listed in ALLOWED_COMMITS with the
reason; a handler over the length limit that is not split is listed in LONG_HANDLERS with a
sentence that says why it is as long as it is. ``--max-lines`` sets the limit (15).
``--strict`` exits 1 when a handler (or a views helper) commits without a reason, or a handler
is long without an explanation; ``--exclude PATH[:HANDLER]`` leaves files, folders or single
handlers out of that check (areas still being converted).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
COMMITS = {"commit", "_commit", "run_and_flash", "_commit_or_error"}

# "path:handler" -> why it commits before the unit of work does
ALLOWED_COMMITS = {
    "app/auth/oidc_views.py:callback": (
        "The provider's nonce is spent as soon as the ID token is verified, so it is committed "
        "before the account is looked up: a refusal after that (a 4xx, rolled back) must not make "
        "the same answer usable again."
    ),
}

# "path:handler" -> one sentence why the handler is longer than the limit
LONG_HANDLERS = {
    "app/admin/views.py:assign_region": (
        "One form that previews a region change on the first post and makes it on the confirming one, "
        "next to the municipalities and the latest changes."
    ),
    "app/desk/views.py:bookings": (
        "The desk's bookings page: the filter, one page of results with its count, and the bulk forms' choices."
    ),
    "app/desk/views.py:week": "The week grid's template takes the week, its days and places, and the links either side.",
    "app/transport/views.py:plans": (
        "The day's plan page: plans, warnings, route map, fleet, hired buses and the days with plans, in one template."
    ),
    "app/transport/views.py:distances": (
        "Two forms on one page (one distance by hand, a CSV of them), each through handle_form."
    ),
    "app/admin/views.py:region_edit": (
        "Two forms (the administrator's with code and name, the leader's settings only) on one page."
    ),
    "app/admin/views.py:user_invite": (
        "The invitation form first offers the chosen region's schools and venues (the region picker "
        "posts without saving), then invites."
    ),
    "app/admin/views.py:user_edit": (
        "The account form is filled from the account on a GET and re-offers the region's schools and "
        "venues when the region picker posts."
    ),
    "app/admin/views.py:user_action": "A table of three actions (deactivate, activate, invite again) and their messages.",
    "app/booking/views.py:my_bookings": (
        "A coordinator is sent to the desk; a teacher's bookings are split into coming and past."
    ),
    "app/booking/views.py:change": (
        "The change page renders the booking, its deadline and its contact next to the form."
    ),
    "app/booking/views.py:roster": "The roster page renders the session with its move, capacity and override forms.",
    "app/catalogue/views.py:offer": "An offer's page: its dates with availability, its parts and its materials.",
    "app/labs/views.py:offer_edit": "The offer form renders next to the part form (its venue choices) and the materials.",
    "app/labs/views.py:offer_part": "The part form's fields are passed one by one to the service, which checks the venue.",
    "app/labs/views.py:calendar": "The week or month view: its range, the sessions of the user's venues per day and the schools visited.",
    "app/reporting/views.py:export": (
        "The reach export makes one table as a streamed CSV or all tables as one XLSX, each table "
        "made only when asked for."
    ),
    "app/auth/oidc_views.py:callback": (
        "The provider's answer is exchanged and checked, the nonce spent, and the person signed in "
        "or kept waiting for a choice of school."
    ),
    "app/auth/oidc_views.py:choose_school": (
        "The pending sign-in is checked before its institution's locations are offered and the chosen one linked."
    ),
    "app/auth/views.py:login": (
        "A password sign-in answers 401 and 429 on their own fields; authenticate commits the counted failure itself."
    ),
    "app/booking/fairness_views.py:rules": (
        "The rules page is open to the whole region, its form only to whoever sets the rules (a POST by anyone else is 403)."
    ),
    "app/booking/fairness_views.py:rounds": (
        "The rounds page is open to the whole region, its form only to whoever manages rounds (a POST by anyone else is 403)."
    ),
    "app/schools/coordinator_views.py:classes": (
        "The class form is for the school year asked for and renders next to that year's classes."
    ),
}


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
            body_lines = node.end_lineno - node.body[0].lineno + 1
            yield path, node.name, node.lineno, body_lines, _commits(node)


def _commits(node) -> tuple[str, ...]:
    calls = {
        c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
        for c in ast.walk(node)
        if isinstance(c, ast.Call)
    }
    return tuple(sorted(calls & COMMITS))


def committing_helpers(root: Path):
    """Functions of a views module (one that defines routes) that commit without being a handler."""
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        is_route = lambda f: any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
            for d in f.decorator_list
        )
        if not any(is_route(f) for f in functions):
            continue
        for f in functions:
            if not is_route(f) and "commit" in _commits(f):
                yield path, f.name, f.lineno


def _key(root: Path, path: Path, name: str) -> str:
    return f"{path.relative_to(root).as_posix()}:{name}"


def _excluded(key: str, excludes: list[str]) -> bool:
    path = key.split(":", 1)[0]
    return any(key == e or path == e or path.startswith(e.rstrip("/") + "/") for e in excludes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=15)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATH[:HANDLER]")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    rows = list(handlers(root / "app"))
    helpers = list(committing_helpers(root / "app"))
    long_ = [r for r in rows if r[3] > args.max_lines]
    committing = [r for r in rows if r[4]]
    print(
        f"{len(rows)} handlers; {len(long_)} over {args.max_lines} lines; {len(committing)} commit themselves; "
        f"{len(helpers)} views helpers commit"
    )
    failures = []
    for path, name, line, n, commits in sorted(set(long_) | set(committing), key=lambda r: (str(r[0]), r[2])):
        key = _key(root, path, name)
        flags = []
        if n > args.max_lines:
            why = LONG_HANDLERS.get(key)
            flags.append(f"{n} lines" + (f" ({why})" if why else ""))
            if not why:
                failures.append(key)
        if commits:
            why = ALLOWED_COMMITS.get(key)
            flags.append("commits via " + ", ".join(commits) + (f" ({why})" if why else ""))
            if not why:
                failures.append(key)
        print(f"  {path.relative_to(root)}:{line} {name}: {'; '.join(flags)}")
    for path, name, line in helpers:
        print(f"  {path.relative_to(root)}:{line} {name}: a views helper that commits")
        failures.append(_key(root, path, name))
    stale = sorted(
        k
        for k in set(LONG_HANDLERS) | set(ALLOWED_COMMITS)
        if k not in {_key(root, r[0], r[1]) for r in long_ + committing}
    )
    for key in stale:
        print(f"  note: {key} is explained but no longer long or committing; drop its entry")
    unexplained = sorted({k for k in failures if not _excluded(k, args.exclude)})
    if args.strict and unexplained:
        print(f"{len(unexplained)} without a reason: " + ", ".join(unexplained))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
