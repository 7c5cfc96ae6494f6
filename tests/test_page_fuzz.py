"""Property-based fuzzing of the pages (issue 14): every GET page and every form of the URL
map, with generated path values, query parameters and bodies, as every role — anonymous,
teacher, coordinator, programme leader, administrator. Whatever the input: no 5xx and no
traceback in the answer.

The form schema is the one a browser sees: every page is fetched first as each role, its
forms parsed (fields, defaults, submit buttons), and each form's body is then mutated —
fields replaced by generated values (huge and negative numbers, dates in year 1 and 9999,
impossible dates, line breaks, bidi and zero-width characters, NUL, long text), left out,
or joined by fields of other forms. POST endpoints no page links to get a body of fields
drawn from every form. Deterministic (derandomised), with a bounded number of examples per
endpoint and role (PAGE_FUZZ_EXAMPLES, default 4), so it runs in a few minutes. The JSON
API has its own fuzzing (tests/api/test_api_fuzz.py).
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.extensions import db
from tests import factories

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("PAGE_FUZZ_EXAMPLES", "4"))
ROLES = ["anonymous", "teacher", "coordinator", "programme_leader", "admin"]  # the order matters little:
SKIP = {"auth.logout", "static"}  # signing out would end the role's run; static files are no page

TRICKY = [
    "",
    "0",
    "-1",
    "1",
    "2",
    "abc",
    "9223372036854775808",
    "-9223372036854775809",
    "2147483648",
    "1e309",
    "NaN",
    "inf",
    "0001-01-01",
    "9999-12-31",
    "2030-02-30",
    "2030-01-07",
    "25:99",
    "12:30",
    "a\r\nBcc: x@evil.example",
    "Jan\u202ede\u200bVries",
    "Ω東京",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "x" * 3000,
    "on",
    "1/2",
    "7/8",
    "nl",
    "en",
    "true",
    "null",
    "[]",
    "{}",
    "../../etc/passwd",
    "juf@example.org",
    "a@b.nl, c@d.nl",
]


def values(ids: list[int]):
    return st.one_of(
        st.sampled_from(TRICKY),
        st.sampled_from([str(i) for i in ids] or ["1"]),
        st.integers(-(2**70), 2**70).map(str),
        st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    )


class _Forms(HTMLParser):
    """The forms of a page: (action, method, [field dicts], one per submit button)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.form: dict | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {
                "action": a.get("action") or "",
                "method": (a.get("method") or "get").upper(),
                "fields": {},
                "buttons": [],
            }
            self.forms.append(self.form)
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form["fields"].setdefault(a["name"], a.get("value", "on"))
            elif kind == "submit":
                self.form["buttons"].append((a["name"], a.get("value", "")))
            elif kind != "file":
                self.form["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self.form["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a["name"]
            self.form["fields"].setdefault(a["name"], "")
        elif tag == "option" and self.select:
            if "selected" in a or not self.form["fields"].get(self.select):
                self.form["fields"][self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.form["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self.form is not None and self.textarea:
            self.form["fields"][self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def _world() -> dict:
    """Something behind every page: two regions, venues, offers (single and series), sessions,
    a booking, a bus plan with a bus and a stop, every role."""
    from app.booking.services import ClassDetails, create_booking
    from app.timeutil import school_year_of
    from app.transport.models import BusType
    from app.transport.jobs import replan_sessions

    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    region, other = factories.region(bus_threshold_km=6.0), factories.region()
    lab = factories.venue(region, latitude=52.0, longitude=6.3)
    hotspot = factories.venue(region, name="Kwekerij", latitude=52.01, longitude=6.31)
    factories.venue(other)
    offer = factories.offer(region, lab, capacity_classes=4, capacity_pupils=120, adults_per_class=1)
    sessions = [factories.session(offer, now + timedelta(days=d)) for d in (20, 27)]
    series = factories.series_offer(region, lab, hotspot, adults_per_class=1)
    for i, part in enumerate(series.parts):
        factories.session(series, now + timedelta(days=30 + 7 * i), part=part)
    db.session.add(
        BusType(
            region_id=region.id,
            name="Bus 50",
            carrier="Вектор Tours",
            seats=50,
            cost_per_trip=150.0,
            cost_per_km=1.5,
            available=4,
        )
    )
    school = factories.school(region, latitude=52.3, longitude=6.3)
    factories.enrol(school, school_year_of(now))
    teacher = factories.teacher(school)
    booking = create_booking(
        teacher,
        sessions[0].id,
        ClassDetails(
            school_id=school.id, groep="6", pupils=20, adults=2, contact_name="Juf Ans", contact_email=teacher.email
        ),
    )
    users = {
        "teacher": teacher,
        "coordinator": factories.user("coordinator", region=region, venues=[lab, hotspot]),
        "programme_leader": factories.user("programme_leader", region=region),
        "admin": factories.user("admin"),
    }
    factories.user("coordinator", region=other)
    db.session.commit()
    replan_sessions([s.id for s in sessions])
    db.session.commit()
    ids = sorted(
        {
            region.id,
            other.id,
            lab.id,
            hotspot.id,
            offer.id,
            series.id,
            booking.id,
            school.id,
            *(s.id for s in sessions),
            *(u.id for u in users.values()),
        }
    )
    return {
        "users": users,
        "ids": ids,
        "day": (now + timedelta(days=20)).date().isoformat(),
        "session": sessions[0].id,
        "offer": offer.id,
        "series": series.id,
        "booking": booking.id,
        "lab": lab.id,
        "region": region.id,
        "school": school.id,
    }


def _pages(app, world) -> list[str]:
    """A concrete GET address per page of the URL map (its path values from the world)."""
    fill = {
        "offer_id": world["offer"],
        "venue_id": world["lab"],
        "booking_id": world["booking"],
        "session_id": world["session"],
        "school_id": world["school"],
        "region_id": world["region"],
        "user_id": world["users"]["teacher"].id,
        "day": world["day"],
        "datum": world["day"],
        "table": "schools",
        "fmt": "csv",
        "token": "x",
        "round_id": 1,
        "rule_id": 1,
    }
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or rule.endpoint.startswith("api.") or "GET" not in rule.methods:
            continue
        try:
            out.append(app.url_map.bind("localhost").build(rule.endpoint, {a: fill.get(a, 1) for a in rule.arguments}))
        except Exception:
            continue
    out += [
        f"/boekingen/nieuw?session_id={world['session']}",
        f"/boekingen/reeks?offer_id={world['series']}",
        f"/boekingen/les/{world['session']}",
        f"/beheer/aanbod/{world['series']}",
    ]
    return sorted(set(out))


def _crawl(client, app, pages) -> dict[str, list[tuple[str, dict]]]:
    """endpoint → [(action path, body)] of every POST form on the pages, one body per submit button."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, list[tuple[str, dict]]] = {}
    for page in pages:
        resp = client.get(page)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        parser = _Forms()
        parser.feed(resp.get_data(as_text=True))
        for form in parser.forms:
            if form["method"] != "POST":
                continue
            action = urlsplit(form["action"] or page)
            try:
                endpoint, _ = adapter.match(action.path, method="POST")
            except Exception:
                continue
            target = action.path + (f"?{action.query}" if action.query else "")
            for button in form["buttons"] or [None]:
                body = dict(form["fields"])
                if button:
                    body[button[0]] = button[1]
                found.setdefault(endpoint, []).append((target, body))
    return found


def _post_rules(app, world) -> dict[str, str]:
    """endpoint → an address, for every POST endpoint (path values from the world)."""
    fill = {
        "offer_id": world["offer"],
        "venue_id": world["lab"],
        "booking_id": world["booking"],
        "session_id": world["session"],
        "region_id": world["region"],
        "user_id": world["users"]["teacher"].id,
        "action": "verbergen",
        "status": "uitgeleend",
        "lang": "en",
        "token": "x",
    }
    out = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or rule.endpoint.startswith("api.") or "POST" not in rule.methods:
            continue
        try:
            out.setdefault(
                rule.endpoint,
                app.url_map.bind("localhost").build(rule.endpoint, {a: fill.get(a, 1) for a in rule.arguments}),
            )
        except Exception:
            continue
    return out


def _mutated_path(path: str, draw_value) -> str:
    """The address with one of its numeric or dated path segments replaced."""
    parts = path.split("?")[0].split("/")
    spots = [i for i, p in enumerate(parts) if re.fullmatch(r"\d+|\d{4}-\d\d-\d\d", p)]
    if not spots:
        return path
    i = spots[0] if len(spots) == 1 else spots[-1]
    parts[i] = re.sub(r"[/?#%\\]", "", draw_value)[:40] or "0"
    return "/".join(parts) + (("?" + path.split("?", 1)[1]) if "?" in path else "")


QUERY_NAMES = [
    "region",
    "regio",
    "date",
    "datum",
    "date_from",
    "date_to",
    "session_id",
    "offer_id",
    "page",
    "q",
    "groep",
    "world",
    "kind",
    "venue",
    "sort",
    "view",
    "school_year",
    "vervoerder",
    "next",
    "role",
    "school",
    "active",
    "email",
    "municipality",
    "lang",
    "full",
    "max_km",
    "only_available",
    "bus_only",
    "offer",
    "group_by",
]


STATS: dict = {}


def _check(failures, role, method, url, resp, data=None):
    STATS[resp.status_code] = STATS.get(resp.status_code, 0) + 1
    text = resp.get_data()
    if resp.status_code >= 500 or b"Traceback" in text:
        failures.append(f"{role}: {method} {url} {data or ''} -> {resp.status_code}")


def _generic_body(world) -> dict:
    """A body for a POST endpoint no page showed a form for (yet): the fields such forms have."""
    return {
        "session_id": str(world["session"] + 1),
        "reason": "fuzz",
        "status": "attended",
        "attended_pupils": "20",
        "value": "1",
        "action": "cancel",
        "start": "10:00",
        "capacity_pupils": "30",
        "capacity_classes": "2",
        "staff_id": "1",
        "to_bus_id": "1",
        "kind": "bus",
        "starts_on": world["day"],
        "quantity": "1",
    }


def test_pages_survive_generated_input(app):
    world = _world()
    pages = _pages(app, world)
    post_rules = _post_rules(app, world)
    assert len(pages) >= 40 and len(post_rules) >= 40
    failures: list[str] = []
    base_settings = settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    vals = values(world["ids"])
    clients, forms = {}, {}
    # the addresses read now: a request's unit of work commits (and expires) what the test holds
    emails = {role: user.email for role, user in world["users"].items()}
    for role in ROLES:  # every role's forms first, before any generated POST changes the world
        clients[role] = client = app.test_client()
        if role != "anonymous":
            resp = client.post("/inloggen", data={"email": emails[role], "password": factories.PASSWORD})
            assert resp.status_code == 302, role
        forms[role] = _crawl(client, app, pages)
        if os.environ.get("PAGE_FUZZ_VERBOSE"):
            print(role, "forms of", sorted(forms[role]))
    field_pool = sorted(
        {name for by_role in forms.values() for bodies in by_role.values() for _, body in bodies for name in body}
        | set(_generic_body(world))
        | {"part_1", "part_2", "part_3", "venue_id", "next"}
    )

    for role in ROLES:
        client = clients[role]
        for page in pages:

            @base_settings
            @given(
                query=st.dictionaries(st.sampled_from(QUERY_NAMES), vals, max_size=4),
                path_value=vals,
                mutate_path=st.booleans(),
            )
            def get_page(query, path_value, mutate_path):
                url = _mutated_path(page, path_value) if mutate_path else page
                path, _, fixed = url.partition("?")
                query = {**dict(p.split("=", 1) for p in fixed.split("&") if "=" in p), **query}
                try:
                    resp = client.get(path, query_string=query)
                except Exception as exc:
                    failures.append(f"{role}: GET {url} {query} -> {exc.__class__.__name__}: {str(exc)[:300]}")
                    return
                finally:
                    db.session.rollback()
                _check(failures, role, "GET", url, resp, query)

            get_page()

    for role in ROLES:
        client = clients[role]
        for endpoint, address in sorted(post_rules.items()):
            candidates = forms[role].get(endpoint) or [(address, _generic_body(world))]
            own = sorted({name for _, body in candidates for name in body if name != "csrf_token"}) or field_pool

            @settings(base_settings, max_examples=EXAMPLES * 2)
            @given(
                which=st.integers(0, len(candidates) - 1),
                changes=st.dictionaries(st.sampled_from(own), vals, min_size=1, max_size=4),
                extra=st.dictionaries(st.sampled_from(field_pool), vals, max_size=2),
                drop=st.lists(st.sampled_from(field_pool), max_size=3),
                path_value=vals,
                mutate_path=st.integers(0, 4).map(lambda n: n == 0),
            )
            def post_form(which, changes, extra, drop, path_value, mutate_path):
                target, body = candidates[which]
                body = {k: v for k, v in {**body, **extra, **changes}.items() if k not in drop or k in changes}
                url = _mutated_path(target, path_value) if mutate_path else target
                path, _, fixed = url.partition("?")
                try:
                    resp = client.post(path, query_string=fixed, data=body)
                except Exception as exc:
                    failures.append(f"{role}: POST {url} {body} -> {exc.__class__.__name__}: {str(exc)[:300]}")
                    return
                finally:
                    db.session.rollback()
                _check(failures, role, "POST", url, resp, body)

            post_form()
    if os.environ.get("PAGE_FUZZ_VERBOSE"):
        print("answers:", sorted(STATS.items()))
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n".join(failures[:60])
