"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json is called with generated input, valid by the
document (positive) and invalid (negative), with the bearer token of a teacher and of a
programme leader. Whatever the input: no 5xx, a documented response conforms to its
schema, and every 4xx is application/problem+json. Deterministic (derandomised), with a
modest number of examples per operation.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.extensions import db
from tests import factories

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12  # per operation and generation mode


def problem_json_for_client_errors(ctx, response, case):
    """Every 4xx answer is a problem document (RFC 9457) with a code and a detail."""
    if 400 <= response.status_code < 500:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.split(";")[0].strip() == "application/problem+json", (
            f"{response.status_code} with Content-Type {content_type!r}"
        )
        body = response.json()
        assert body.get("status") == response.status_code and body.get("code") and body.get("detail"), body


CHECKS = [not_a_server_error, response_schema_conformance, problem_json_for_client_errors]


def _world():
    """A small region with something behind every endpoint: offers, a series, sessions,
    bookings, schools with enrolment, a teacher and a programme leader."""
    from app.booking.services import ClassDetails, create_booking
    from app.timeutil import school_year_of

    now = datetime.now(timezone.utc)
    region = factories.region()
    lab, hotspot = factories.venue(region), factories.venue(region, name="Kwekerij")
    offer = factories.offer(region, lab, capacity_classes=3, capacity_pupils=90, adults_per_class=1)
    sessions = [factories.session(offer, now + timedelta(days=d)) for d in (10, 30)]
    series = factories.series_offer(region, lab, hotspot, groep_min=5, groep_max=8, adults_per_class=1)
    for i, part in enumerate(series.parts):
        factories.session(series, now + timedelta(days=20 + 7 * i), part=part)
    school, other = factories.school(region), factories.school(region)
    for s in (school, other):
        factories.enrol(s, school_year_of(now))
    teacher = factories.teacher(school)
    leader = factories.user("programme_leader", region=region)
    create_booking(
        teacher,
        sessions[0].id,
        ClassDetails(
            school_id=school.id, groep="6", pupils=20, adults=2, contact_name="Juf Ans", contact_email=teacher.email
        ),
    )
    tokens = {"teacher": factories.api_token(teacher), "programme_leader": factories.api_token(leader)}
    db.session.commit()
    return tokens, {"teacher": teacher.id, "programme_leader": leader.id}


@pytest.mark.parametrize("role", ["teacher", "programme_leader"])
def test_api_survives_generated_input(app, role):
    from app.auth.models import User

    tokens, user_ids = _world()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        revokes_token = operation.method.upper() == "DELETE" and operation.path == "/auth/token"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case):
                # revoking the token in use would end the run: that call gets a token of its own
                secret = factories.api_token(db.session.get(User, user_ids[role])) if revokes_token else tokens[role]
                if revokes_token:
                    db.session.commit()
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secret}"}
                response = case.call()
                db.session.rollback()  # whatever the request left in the test's session
                case.validate_response(response, checks=CHECKS)

            try:
                call()
            except (Exception, FailureGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
