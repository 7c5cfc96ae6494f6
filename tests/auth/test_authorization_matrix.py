"""Every endpoint × every role × both regions: the answer each one gets.

MATRIX below classifies every rule of ``app.url_map``. A new endpoint fails
``test_every_endpoint_is_classified`` until it has a row here: add one, saying per role
what the answer is. The URL placeholders ({booking}, {venue} …) name objects of
region 1 (see ``_world``); the ``*_r2`` roles are the same roles in region 2, so for
region-1 objects they should get 404 (another region's objects do not exist for them).

Answers:
  OK          200
  REDIRECT    302, not to the sign-in page (e.g. after sign-out)
  LOGIN       302 to the sign-in page (not signed in)
  UNAUTHORIZED 401 problem+json (API without a valid token)
  FORBIDDEN   403
  NOT_FOUND   404
  ALLOWED     the role may do this; the request is not sent, so nothing is changed or
              destroyed (the areas' own tests perform these actions)

Pages are asked with GET (forms too: their safe method); POST/DELETE endpoints are sent
only to roles that must be refused, and the refusal is asserted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.auth.models import PasswordResetToken, Role, TokenPurpose
from app.auth.tokens import create_api_token, hash_token
from app.booking import services as booking_services
from app.booking.models import FairnessRule, RequestRound, RuleKind
from app.db import utcnow
from app.extensions import db
from app.labs.models import Kit, KitLoan, Staff, World
from app.schools.models import RegionChange, SchoolClass
from app.timeutil import school_year_of
from app.transport.models import Bus, BusPlan, BusStop, BusType
from tests import factories

OK, REDIRECT, LOGIN, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, ALLOWED = (
    "200 OK",
    "302 elsewhere",
    "302 to sign-in",
    "401",
    "403",
    "404",
    "allowed (not sent)",
)

REGION1 = ("teacher", "coordinator", "programme_leader", "school_coordinator")
ROLES = ("anonymous", *REGION1, "admin", *(f"{r}_r2" for r in REGION1))


@dataclass
class Case:
    """One rule: the URL to ask (placeholders from the world) and the answer per role."""

    url: str
    answers: dict
    method: str = "GET"
    data: dict | None = None
    json: dict | None = None

    @property
    def api(self) -> bool:
        return self.url.startswith("/api/")


def case(
    url,
    *,
    anonymous=LOGIN,
    teacher,
    coordinator,
    programme_leader,
    admin,
    school_coordinator=None,
    region2=None,
    method="GET",
    data=None,
    json=None,
    **r2,
) -> Case:
    """Answers for region 1 and the administrator; ``region2`` (if given) for every region-2
    role, else each region-2 role answers like its region-1 counterpart (pages about "my
    own" things); ``teacher_r2=…`` etc. override one region-2 role.

    The school coordinator (of the booking's school, s1) answers, unless named, like the other
    signed-in roles where they all answer alike, and 403 elsewhere (the rows where that is not
    so name it)."""
    if school_coordinator is None:
        school_coordinator = teacher if teacher == coordinator == programme_leader else FORBIDDEN
    answers = {
        "anonymous": anonymous,
        "teacher": teacher,
        "coordinator": coordinator,
        "programme_leader": programme_leader,
        "admin": admin,
        "school_coordinator": school_coordinator,
    }
    for role in REGION1:
        answers[f"{role}_r2"] = r2.pop(f"{role}_r2", region2 if region2 is not None else answers[role])
    assert not r2, f"unknown roles {r2}"
    return Case(url, answers, method, data, json)


def everyone(url, answer=OK, **kw) -> Case:
    return case(url, anonymous=answer, teacher=answer, coordinator=answer, programme_leader=answer, admin=answer, **kw)


def signed_in(url, answer=OK, **kw) -> Case:
    return case(url, teacher=answer, coordinator=answer, programme_leader=answer, admin=answer, **kw)


def api(url, anonymous=UNAUTHORIZED, **kw) -> Case:
    return case(url, anonymous=anonymous, **kw)


# who may see or do what, per rule --------------------------------------------------------
# the region's own object, for the booking's school, the venue's coordinator, the region's leader
REGION_OBJECT = dict(teacher=OK, coordinator=OK, programme_leader=OK, admin=OK, region2=NOT_FOUND)
MANAGE_SESSION = dict(
    teacher=FORBIDDEN, coordinator=ALLOWED, programme_leader=FORBIDDEN, admin=ALLOWED, region2=NOT_FOUND
)
MANAGER_PAGE = dict(teacher=FORBIDDEN, coordinator=OK, programme_leader=FORBIDDEN, admin=OK)
REACH = dict(teacher=FORBIDDEN, coordinator=OK, programme_leader=OK, admin=OK)
LEADER_PAGE = dict(teacher=FORBIDDEN, coordinator=FORBIDDEN, programme_leader=OK, admin=OK)
ADMIN_PAGE = dict(teacher=FORBIDDEN, coordinator=FORBIDDEN, programme_leader=FORBIDDEN, admin=OK)
SCHOOL_PAGE = dict(
    teacher=FORBIDDEN, coordinator=FORBIDDEN, programme_leader=FORBIDDEN, admin=FORBIDDEN, school_coordinator=OK
)
SCHOOL_PAGE_ALLOWED = dict(
    teacher=FORBIDDEN,
    coordinator=FORBIDDEN,
    programme_leader=FORBIDDEN,
    admin=FORBIDDEN,
    school_coordinator=ALLOWED,
    school_coordinator_r2=NOT_FOUND,
)

MATRIX: dict[str, Case] = {
    # public pages
    "/": everyone("/"),
    "/privacy": everyone("/privacy"),
    "/toegankelijkheid": everyone("/toegankelijkheid"),
    "/health": everyone("/health"),
    "/taal/<lang>": everyone("/taal/nl", REDIRECT, method="POST"),
    "/static/<path:filename>": everyone("/static/css/app.css"),
    "/aanbod/": everyone("/aanbod/"),
    "/aanbod/locaties": everyone("/aanbod/locaties"),
    "/aanbod/<int:offer_id>": everyone("/aanbod/{offer}", region2=NOT_FOUND),
    "/aanbod/<int:offer_id>/materiaal/<int:material_id>": signed_in(
        "/aanbod/{offer}/materiaal/{material}", region2=NOT_FOUND
    ),
    "/aanbod/locaties/<int:venue_id>": everyone("/aanbod/locaties/{venue}", region2=NOT_FOUND),
    "/agenda/<token>.ics": everyone("/agenda/{calendar_token}.ics"),  # the secret URL is the key
    # signing in and out, passwords
    "/inloggen": everyone("/inloggen"),
    "/uitloggen": signed_in("/uitloggen", REDIRECT, method="POST"),
    "/wachtwoord-vergeten": everyone("/wachtwoord-vergeten"),
    "/wachtwoord-herstellen/<token>": everyone("/wachtwoord-herstellen/{reset_token}"),
    "/uitnodiging/<token>": everyone("/uitnodiging/{reset_token}"),  # an invitation is a reset link
    # sign-in with a school account (OpenID Connect): open to everyone; the matrix's app has no
    # provider configured, so a provider's name is unknown (tests/auth/test_oidc.py signs in
    # through a real provider)
    "/inloggen/via/<name>": everyone("/inloggen/via/entree", NOT_FOUND),
    "/inloggen/via/<name>/terug": everyone("/inloggen/via/entree/terug?code=x&state=y", NOT_FOUND),
    "/inloggen/via/<name>/school-kiezen": everyone("/inloggen/via/entree/school-kiezen", NOT_FOUND),
    "/inloglink": everyone("/inloglink"),
    "/inloglink/<token>": everyone("/inloglink/{login_token}"),  # the secret link is the key (a POST uses it)
    # the school coordinator's pages: their own school's teachers, classes and bookings
    "/mijn-school/leerkrachten": case("/mijn-school/leerkrachten", **SCHOOL_PAGE),
    "/mijn-school/klassen": case("/mijn-school/klassen", **SCHOOL_PAGE),
    "/mijn-school/boekingen": case("/mijn-school/boekingen", **SCHOOL_PAGE),
    # the role is refused before the object is looked at; s1's teacher / class: 404 for region 2
    "/mijn-school/leerkrachten/<int:user_id>/verwijderen": case(
        "/mijn-school/leerkrachten/{user}/verwijderen", method="POST", **SCHOOL_PAGE_ALLOWED
    ),
    "/mijn-school/klassen/<int:class_id>/verwijderen": case(
        "/mijn-school/klassen/{school_class}/verwijderen", method="POST", **SCHOOL_PAGE_ALLOWED
    ),
    # my account: everyone their own
    "/mijn-account/": signed_in("/mijn-account/"),
    "/mijn-account/gegevens.json": signed_in("/mijn-account/gegevens.json"),
    "/mijn-account/verwijderen": signed_in("/mijn-account/verwijderen"),
    "/mijn-account/wachtwoord": signed_in("/mijn-account/wachtwoord"),
    "/mijn-account/api-sleutels": signed_in("/mijn-account/api-sleutels"),
    "/mijn-account/api-sleutels/<int:token_id>/intrekken": case(  # the teacher's own key
        "/mijn-account/api-sleutels/{token}/intrekken",
        method="POST",
        teacher=ALLOWED,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=FORBIDDEN,
        region2=FORBIDDEN,
    ),
    "/agenda/": signed_in("/agenda/"),
    "/agenda/nieuw-adres": signed_in("/agenda/nieuw-adres", ALLOWED, method="POST"),
    # booking (teachers)
    # a teacher's bookings; the other roles find bookings on the desk (/bureau/) and are sent there
    "/boekingen/": case("/boekingen/", teacher=OK, coordinator=REDIRECT, programme_leader=REDIRECT, admin=REDIRECT),
    "/boekingen/nieuw": case(
        "/boekingen/nieuw?session_id={session}",
        teacher=OK,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=FORBIDDEN,
        region2=NOT_FOUND,
    ),
    "/boekingen/reeks": case(
        "/boekingen/reeks?offer_id={series_offer}",
        teacher=OK,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=FORBIDDEN,
        region2=NOT_FOUND,
    ),
    "/boekingen/<int:booking_id>": case("/boekingen/{booking}", **REGION_OBJECT),
    "/agenda/boeking/<int:booking_id>.ics": case("/agenda/boeking/{booking}.ics", **REGION_OBJECT),
    # cancelling: a confirmation page (GET) whose form cancels (POST); changing: a form page
    "/boekingen/<int:booking_id>/annuleren": case(
        "/boekingen/{booking}/annuleren",
        teacher=OK,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        school_coordinator=OK,
        region2=NOT_FOUND,
    ),
    "/boekingen/<int:booking_id>/wijzigen": case(
        "/boekingen/{booking}/wijzigen",
        teacher=OK,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        school_coordinator=OK,
        region2=NOT_FOUND,
    ),
    # requests on offers with approval: the coordinator's list, approving and declining
    "/boekingen/aanvragen": case("/boekingen/aanvragen", **MANAGER_PAGE),
    "/boekingen/<int:booking_id>/goedkeuren": case("/boekingen/{booking}/goedkeuren", method="POST", **MANAGE_SESSION),
    "/boekingen/<int:booking_id>/afwijzen": case("/boekingen/{booking}/afwijzen", method="POST", **MANAGE_SESSION),
    # an offered place: whoever may cancel the booking answers the offer
    "/boekingen/<int:booking_id>/aanbod/aannemen": case(
        "/boekingen/{booking}/aanbod/aannemen",
        method="POST",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    "/boekingen/<int:booking_id>/aanbod/afslaan": case(
        "/boekingen/{booking}/aanbod/afslaan",
        method="POST",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    # undoing a cancellation: whoever may cancel the booking (the service checks the grace period)
    "/boekingen/<int:booking_id>/herstellen": case(
        "/boekingen/{booking}/herstellen",
        method="POST",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    # the coordinator's desk: coordinators (their venues), programme leaders (their region, to look),
    # administrators; each sees their own, so the region-2 roles answer alike
    "/bureau/": case("/bureau/", teacher=FORBIDDEN, coordinator=OK, programme_leader=OK, admin=OK),
    "/bureau/boekingen.csv": case(
        "/bureau/boekingen.csv", teacher=FORBIDDEN, coordinator=OK, programme_leader=OK, admin=OK
    ),
    "/bureau/week": case("/bureau/week?datum={day}", teacher=FORBIDDEN, coordinator=OK, programme_leader=OK, admin=OK),
    "/bureau/bulk": case(
        "/bureau/bulk", method="POST", teacher=FORBIDDEN, coordinator=ALLOWED, programme_leader=FORBIDDEN, admin=ALLOWED
    ),
    # messaging a session's schools: the role is refused first, another region's session does not exist
    "/bureau/bericht": case(
        "/bureau/bericht?session_id={session}",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        coordinator_r2=NOT_FOUND,
    ),
    # a session's roster (coordinators of the venue)
    "/boekingen/les/<int:session_id>": case(
        "/boekingen/les/{session}",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        region2=NOT_FOUND,
    ),
    "/boekingen/<int:booking_id>/verplaatsen": case(
        "/boekingen/{booking}/verplaatsen", method="POST", **MANAGE_SESSION
    ),
    "/boekingen/<int:booking_id>/aanwezigheid": case(
        "/boekingen/{booking}/aanwezigheid", method="POST", **MANAGE_SESSION
    ),
    "/boekingen/les/<int:session_id>/capaciteit": case(
        "/boekingen/les/{session}/capaciteit", method="POST", **MANAGE_SESSION
    ),
    "/boekingen/les/<int:session_id>/annuleren": case(
        "/boekingen/les/{session}/annuleren", method="POST", **MANAGE_SESSION
    ),
    "/boekingen/les/<int:session_id>/uitzondering": case(
        "/boekingen/les/{session}/uitzondering", method="POST", **MANAGE_SESSION
    ),
    # fairness: rules (programme leaders set them; everyone of the region reads them) and rounds
    "/spelregels": signed_in("/spelregels"),
    "/spelregels/<int:rule_id>/uit": case(
        "/spelregels/{rule}/uit",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=FORBIDDEN,
        programme_leader=ALLOWED,
        admin=ALLOWED,
        region2=NOT_FOUND,
    ),
    "/aanvraagrondes": signed_in("/aanvraagrondes"),
    "/aanvraagrondes/<int:round_id>": case("/aanvraagrondes/{round}", **REGION_OBJECT),
    "/aanvraagrondes/<int:round_id>/<action>": case(
        "/aanvraagrondes/{round}/voorbeeld",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=ALLOWED,
        programme_leader=ALLOWED,
        admin=ALLOWED,
        region2=NOT_FOUND,
    ),
    # the coordinator's workspace
    "/beheer/": case("/beheer/", **MANAGER_PAGE),
    "/beheer/agenda": case("/beheer/agenda", **MANAGER_PAGE),
    "/beheer/medewerkers": case("/beheer/medewerkers", **MANAGER_PAGE),
    "/beheer/locaties/nieuw": case("/beheer/locaties/nieuw", **MANAGER_PAGE),
    "/beheer/aanbod/nieuw": case("/beheer/aanbod/nieuw", **MANAGER_PAGE),
    # the role is refused before the object is looked at (no object is revealed by a 403)
    "/beheer/locaties/<int:venue_id>": case("/beheer/locaties/{venue}", **MANAGER_PAGE, coordinator_r2=NOT_FOUND),
    "/beheer/aanbod/<int:offer_id>": case("/beheer/aanbod/{offer}", **MANAGER_PAGE, coordinator_r2=NOT_FOUND),
    "/beheer/aanbod/<int:offer_id>/plannen": case(
        "/beheer/aanbod/{offer}/plannen",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        region2=NOT_FOUND,
    ),
    "/beheer/aanbod/<int:offer_id>/lessen": case(
        "/beheer/aanbod/{offer}/lessen",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        region2=NOT_FOUND,
    ),
    "/beheer/dagoverzicht/<int:venue_id>/<day>": case(
        "/beheer/dagoverzicht/{venue}/{day}",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        region2=NOT_FOUND,
    ),
    "/beheer/locaties/<int:venue_id>/sluiting": case(
        "/beheer/locaties/{venue}/sluiting", method="POST", **MANAGE_SESSION
    ),
    "/beheer/aanbod/<int:offer_id>/materiaal": case(
        "/beheer/aanbod/{offer}/materiaal", method="POST", **MANAGE_SESSION
    ),
    "/beheer/aanbod/<int:offer_id>/materiaal/<int:material_id>/verwijderen": case(
        "/beheer/aanbod/{offer}/materiaal/{material}/verwijderen", method="POST", **MANAGE_SESSION
    ),
    "/beheer/aanbod/<int:offer_id>/deel": case("/beheer/aanbod/{offer}/deel", method="POST", **MANAGE_SESSION),
    "/beheer/aanbod/<int:offer_id>/<action>": case("/beheer/aanbod/{offer}/verbergen", method="POST", **MANAGE_SESSION),
    "/beheer/les/<int:session_id>/medewerker": case(
        "/beheer/les/{session}/medewerker", method="POST", **MANAGE_SESSION
    ),
    "/beheer/les/<int:session_id>/medewerker/verwijderen": case(
        "/beheer/les/{session}/medewerker/verwijderen", method="POST", **MANAGE_SESSION
    ),
    # the role is refused before the person is looked at; another region's person does not exist
    "/beheer/medewerkers/<int:staff_id>": case(
        "/beheer/medewerkers/{staff}",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        coordinator_r2=NOT_FOUND,
    ),
    "/beheer/leskisten": signed_in("/beheer/leskisten"),  # teachers reserve kits here
    "/beheer/leskisten/<int:kit_id>/reserveren": case(
        "/beheer/leskisten/{kit}/reserveren",
        method="POST",
        data={"starts_on": "{kit_day}", "quantity": "1"},
        teacher=ALLOWED,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=FORBIDDEN,
        region2=NOT_FOUND,
    ),
    "/beheer/leskisten/uitleen/<int:loan_id>/<status>": case(
        "/beheer/leskisten/uitleen/{loan}/lent", method="POST", **MANAGE_SESSION
    ),
    # reach (programme leaders and coordinators of the region)
    "/bereik/": case("/bereik/", **REACH),
    "/bereik/export/<table>.<fmt>": case("/bereik/export/scholen.csv", **REACH),
    "/bereik/school/<int:school_id>": case(
        "/bereik/school/{school}", **REACH, coordinator_r2=NOT_FOUND, programme_leader_r2=NOT_FOUND
    ),
    # transport (the region's coordinators plan buses; an administrator picks a region with ?regio=)
    "/vervoer/": case("/vervoer/?datum={day}", **MANAGER_PAGE, coordinator_r2=OK),  # their own region's plans
    "/vervoer/afstanden": case(
        "/vervoer/afstanden",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=NOT_FOUND,
        coordinator_r2=OK,
    ),  # the administrator names a region
    "/vervoer/bestelling/<datum>": case("/vervoer/bestelling/{day}", **MANAGER_PAGE, coordinator_r2=OK),
    "/vervoer/bestelling/<datum>.csv": case("/vervoer/bestelling/{day}.csv", **MANAGER_PAGE, coordinator_r2=OK),
    "/vervoer/bus/<int:bus_id>/vergrendelen": case("/vervoer/bus/{bus}/vergrendelen", method="POST", **MANAGE_SESSION),
    "/vervoer/halte/<int:stop_id>/verplaatsen": case(
        "/vervoer/halte/{stop}/verplaatsen", method="POST", **MANAGE_SESSION
    ),
    "/vervoer/halte/<int:stop_id>/losmaken": case("/vervoer/halte/{stop}/losmaken", method="POST", **MANAGE_SESSION),
    "/vervoer/plan/<int:plan_id>/herplannen": case("/vervoer/plan/{plan}/herplannen", method="POST", **MANAGE_SESSION),
    "/vervoer/plan/<int:plan_id>/gezien": case("/vervoer/plan/{plan}/gezien", method="POST", **MANAGE_SESSION),
    "/vervoer/plan/<int:plan_id>/waarschuwingen-gezien": case(
        "/vervoer/plan/{plan}/waarschuwingen-gezien", method="POST", **MANAGE_SESSION
    ),
    # a shortfall: the coordinator hires extra buses for a day of their own region, or asks a school
    "/vervoer/huren": case(
        "/vervoer/huren",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        coordinator_r2=ALLOWED,
    ),
    "/vervoer/plan/<int:plan_id>/school-vragen": case(
        "/vervoer/plan/{plan}/school-vragen", method="POST", **MANAGE_SESSION
    ),
    # the school's teacher declines the bus (own transport), or the session's coordinator does
    "/vervoer/boeking/<int:booking_id>/bus": case(
        "/vervoer/boeking/{booking}/bus",
        method="POST",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    # administration (Beheer): administrators everything; a programme leader their own region's
    # settings and accounts; the role is refused before an object is looked at
    "/regiobeheer/": case("/regiobeheer/", **LEADER_PAGE),
    "/regiobeheer/regios": case("/regiobeheer/regios", **ADMIN_PAGE),
    "/regiobeheer/regios/nieuw": case("/regiobeheer/regios/nieuw", **ADMIN_PAGE),
    "/regiobeheer/regios/<int:region_id>": case(
        "/regiobeheer/regios/{region}", **LEADER_PAGE, programme_leader_r2=NOT_FOUND
    ),
    "/regiobeheer/gebruikers": case("/regiobeheer/gebruikers", **LEADER_PAGE),
    "/regiobeheer/gebruikers/nieuw": case("/regiobeheer/gebruikers/nieuw", **LEADER_PAGE),
    "/regiobeheer/gebruikers/<int:user_id>": case(
        "/regiobeheer/gebruikers/{user}", **LEADER_PAGE, programme_leader_r2=NOT_FOUND
    ),
    "/regiobeheer/gebruikers/<int:user_id>/<action>": case(
        "/regiobeheer/gebruikers/{user}/deactiveren",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=FORBIDDEN,
        programme_leader=ALLOWED,
        admin=ALLOWED,
        programme_leader_r2=NOT_FOUND,
    ),
    "/regiobeheer/schoolgegevens/duo": case("/regiobeheer/schoolgegevens/duo", **ADMIN_PAGE),
    "/regiobeheer/wachtrij/": case("/regiobeheer/wachtrij/", **ADMIN_PAGE),
    "/regiobeheer/wachtrij/<int:entry_id>/<action>": case(
        "/regiobeheer/wachtrij/1/opnieuw",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
    ),
    # a programme leader reassigns what touches their own region (permissions.can_reassign_area)
    "/regiobeheer/schoolgegevens/regio": case("/regiobeheer/schoolgegevens/regio", **LEADER_PAGE),
    "/regiobeheer/schoolgegevens/vakanties": case("/regiobeheer/schoolgegevens/vakanties", **ADMIN_PAGE),
    "/regiobeheer/schoolgegevens/regio/wijzigingen/<int:change_id>/ongedaan": case(
        "/regiobeheer/schoolgegevens/regio/wijzigingen/{region_change}/ongedaan",  # region 1 gave a school to 2
        method="POST",
        teacher=FORBIDDEN,
        coordinator=FORBIDDEN,
        programme_leader=ALLOWED,
        admin=ALLOWED,
        programme_leader_r2=FORBIDDEN,  # undoing it takes a school from region 1: an administrator's
    ),
    # the JSON API (bearer tokens)
    "/api/v1/openapi.json": everyone("/api/v1/openapi.json"),
    "POST /api/v1/auth/token": everyone("/api/v1/auth/token", ALLOWED, method="POST"),  # e-mail and password
    "/api/v1/me": api("/api/v1/me", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    "/api/v1/offers": api("/api/v1/offers", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    "/api/v1/sessions": api("/api/v1/sessions", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    "/api/v1/venues": api("/api/v1/venues", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    "/api/v1/schools": api("/api/v1/schools", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    "/api/v1/rules": api("/api/v1/rules?region_id={region}", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    "/api/v1/reach": api("/api/v1/reach", **REACH),
    "/api/v1/transport/plans": api(
        "/api/v1/transport/plans?date={day}",
        teacher=FORBIDDEN,
        coordinator=OK,
        programme_leader=FORBIDDEN,
        admin=OK,
        coordinator_r2=OK,
    ),
    "/api/v1/offers/<int:offer_id>": api("/api/v1/offers/{offer}", **REGION_OBJECT),
    "/api/v1/sessions/<int:session_id>": api("/api/v1/sessions/{session}", **REGION_OBJECT),
    "/api/v1/venues/<int:venue_id>": api("/api/v1/venues/{venue}", **REGION_OBJECT),
    "/api/v1/schools/<int:school_id>": api("/api/v1/schools/{school}", **REGION_OBJECT),
    "/api/v1/bookings/<int:booking_id>": api("/api/v1/bookings/{booking}", **REGION_OBJECT),
    "/api/v1/bookings": api("/api/v1/bookings", teacher=OK, coordinator=OK, programme_leader=OK, admin=OK),
    # the one rule with two methods: listing (above) and booking
    "POST /api/v1/bookings": api(
        "/api/v1/bookings",
        method="POST",
        json={"session_id": "{session}", "groep": "7", "pupils": 20, "adults": 2},
        teacher=ALLOWED,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=FORBIDDEN,
        region2=FORBIDDEN,
        teacher_r2=NOT_FOUND,
    ),
    "/api/v1/series-bookings": api(
        "/api/v1/series-bookings",
        method="POST",
        json={"offer_id": "{series_offer}", "session_ids": [], "groep": "7", "pupils": 20, "adults": 2},
        teacher=ALLOWED,
        coordinator=FORBIDDEN,
        programme_leader=FORBIDDEN,
        admin=FORBIDDEN,
        region2=FORBIDDEN,
        teacher_r2=NOT_FOUND,
    ),
    "DELETE /api/v1/bookings/<int:booking_id>": api(
        "/api/v1/bookings/{booking}",
        method="DELETE",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    "PATCH /api/v1/bookings/<int:booking_id>": api(
        "/api/v1/bookings/{booking}",
        method="PATCH",
        json={"pupils": 21},
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    "/api/v1/bookings/<int:booking_id>/approve": api(
        "/api/v1/bookings/{booking}/approve",
        method="POST",
        teacher=FORBIDDEN,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        region2=NOT_FOUND,
    ),
    "/api/v1/bookings/<int:booking_id>/reject": api(
        "/api/v1/bookings/{booking}/reject",
        method="POST",
        json={"reason": "x"},
        teacher=FORBIDDEN,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        region2=NOT_FOUND,
    ),
    "/api/v1/bookings/<int:booking_id>/accept": api(
        "/api/v1/bookings/{booking}/accept",
        method="POST",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    "/api/v1/bookings/<int:booking_id>/decline": api(
        "/api/v1/bookings/{booking}/decline",
        method="POST",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=FORBIDDEN,
        admin=ALLOWED,
        school_coordinator=ALLOWED,
        region2=NOT_FOUND,
    ),
    "DELETE /api/v1/auth/token": api(
        "/api/v1/auth/token",
        method="DELETE",
        teacher=ALLOWED,
        coordinator=ALLOWED,
        programme_leader=ALLOWED,
        admin=ALLOWED,
    ),
}


def _all_rules(app) -> dict[str, str]:
    """Every rule of the app by its MATRIX key: its path; where several rules share a path
    (GET list + POST create), each rule but the GET one is keyed "METHOD path"."""
    by_path = defaultdict(list)
    for rule in app.url_map.iter_rules():
        by_path[rule.rule].append(rule)
    keys = {}
    for path, rules in by_path.items():
        for rule in rules:
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            key = path if len(rules) == 1 or methods == ["GET"] else f"{'/'.join(methods)} {path}"
            keys[key] = f"{rule.endpoint} ({', '.join(methods)} {path})"
    return keys


def test_every_endpoint_is_classified(app):
    rules = _all_rules(app)
    missing = [f"{desc}: add MATRIX[{key!r}]" for key, desc in sorted(rules.items()) if key not in MATRIX]
    assert not missing, (
        "endpoints without a row in the authorization matrix "
        "(tests/auth/test_authorization_matrix.py):\n  " + "\n  ".join(missing)
    )
    stale = sorted(set(MATRIX) - set(rules))
    assert not stale, f"rows in the authorization matrix for rules that no longer exist: {stale}"
    for key, c in MATRIX.items():
        assert set(c.answers) == set(ROLES), key


# the world: two regions with every role ----------------------------------------------------

PASSWORD_HASH = None


def _user(role, **kw):
    """Users without the cost of hashing a password each (the matrix never signs in by form)."""
    global PASSWORD_HASH
    if PASSWORD_HASH is None:
        PASSWORD_HASH = generate_password_hash(factories.PASSWORD, method="scrypt")
    u = factories.user(role, password=None, **kw)
    u.password_hash = PASSWORD_HASH
    return u


def _world():
    now = utcnow()
    r1, r2 = factories.region(), factories.region()
    v1, hotspot, v2 = factories.venue(r1), factories.venue(r1, name="Kas"), factories.venue(r2)
    offer = factories.offer(r1, v1, capacity_classes=3, adults_per_class=0)
    series = factories.series_offer(r1, v1, hotspot)
    session = factories.session(offer, (now + timedelta(days=30)).replace(hour=9))
    s1, s2 = factories.school(r1), factories.school(r2)
    users = {
        "teacher": _user(Role.TEACHER, region=r1, school=s1),
        "coordinator": _user(Role.COORDINATOR, region=r1, venues=[v1, hotspot]),
        "programme_leader": _user(Role.PROGRAMME_LEADER, region=r1),
        "admin": _user(Role.ADMIN),
        "teacher_r2": _user(Role.TEACHER, region=r2, school=s2),
        "coordinator_r2": _user(Role.COORDINATOR, region=r2, venues=[v2]),
        "programme_leader_r2": _user(Role.PROGRAMME_LEADER, region=r2),
        "school_coordinator": _user(Role.SCHOOL_COORDINATOR, region=r1, school=s1),
        "school_coordinator_r2": _user(Role.SCHOOL_COORDINATOR, region=r2, school=s2),
    }
    booking = booking_services.create_booking(
        users["teacher"],
        session.id,
        booking_services.ClassDetails(s1.id, "7", 24, 2, contact_name="Juf", contact_email="juf@example.org"),
    )
    rule = FairnessRule(region_id=r1.id, school_year=school_year_of(now), kind=RuleKind.MAX_PER_SCHOOL, max_count=3)
    rnd = RequestRound(
        region_id=r1.id,
        school_year=school_year_of(now),
        title="Voorjaar",
        opens_at=now,
        deadline_at=now + timedelta(days=10),
    )
    kit = Kit(region_id=r1.id, title="Stroomkist", world=World.HITECH_SCIENCE, stock=3)
    staff = Staff(region_id=r1.id, name="Piet Lesgever")
    db.session.add_all([rule, rnd, kit, staff])
    db.session.flush()
    loan = KitLoan(
        kit_id=kit.id,
        school_id=s1.id,
        starts_on=date.today() + timedelta(days=7),
        ends_on=date.today() + timedelta(days=21),
        booked_by_id=users["teacher"].id,
    )
    token, _secret = create_api_token(users["teacher"], name="koppeling")
    reset = PasswordResetToken(
        user_id=users["teacher"].id,
        token_hash=hash_token("reset-secret-for-the-matrix"),
        expires_at=now + timedelta(hours=1),
    )
    login_link = PasswordResetToken(
        user_id=users["teacher"].id,
        token_hash=hash_token("login-secret-for-the-matrix"),
        expires_at=now + timedelta(minutes=15),
        purpose=TokenPurpose.LOGIN,
    )
    school_class = SchoolClass(
        school_id=s1.id, school_year=school_year_of(now), name="7B", groep_min=7, groep_max=7, pupils=25
    )
    region_change = RegionChange(
        region_id=r2.id,
        area="municipality",
        codes=s1.municipality_code or "0000",
        from_year=school_year_of(now),
        schools=1,
        teachers=0,
        before={"schools": {str(s1.id): {"region_id": r1.id, "rows": []}}, "teachers": {}},
    )
    db.session.add_all([loan, reset, login_link, school_class, region_change])
    db.session.commit()  # the booking's commit re-plans its session (no bus needed here): then a bus by hand
    coach = BusType(region_id=r1.id, name="Touringcar", seats=50, cost_per_trip=250, cost_per_km=1.5)
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == session.id)) or BusPlan(session_id=session.id)
    db.session.add_all([coach, plan])
    bus = Bus(plan=plan, bus_type=coach)
    db.session.add(bus)
    stop = BusStop(bus=bus, booking_id=booking.id, position=1, seats=26)
    db.session.add(stop)
    bearer = {role: create_api_token(u, name="matrix")[1] for role, u in users.items()}
    from app.labs.materials import OfferMaterial, storage_dir

    material = OfferMaterial(
        offer_id=offer.id,
        filename="werkblad.pdf",
        stored_name="matrix-werkblad.pdf",
        content_type="application/pdf",
        size_bytes=9,
    )
    (storage_dir() / material.stored_name).write_bytes(b"%PDF-1.4\n")
    db.session.add(material)
    db.session.commit()
    ids = dict(
        region=r1.id,
        material=material.id,
        user=users["teacher"].id,
        venue=v1.id,
        offer=offer.id,
        series_offer=series.id,
        session=session.id,
        school=s1.id,
        booking=booking.id,
        plan=plan.id,
        bus=bus.id,
        stop=stop.id,
        rule=rule.id,
        round=rnd.id,
        kit=kit.id,
        loan=loan.id,
        token=token.id,
        staff=staff.id,
        calendar_token=users["teacher"].calendar_token,
        reset_token="reset-secret-for-the-matrix",
        login_token="login-secret-for-the-matrix",
        school_class=school_class.id,
        region_change=region_change.id,
        day=session.starts_at.date().isoformat(),
        kit_day=(date.today() + timedelta(days=3)).isoformat(),
    )
    return ids, {role: u.id for role, u in users.items()}, bearer


def _session_id(user_id: int) -> str:
    """A fresh sign-in session of this account (the matrix signs out too, which ends one)."""
    from app.auth.models import User
    from app.auth.services import start_session

    user = db.session.get(User, user_id)
    start_session(user)
    db.session.commit()
    return user.get_id()


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and value.endswith("}") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _answer(resp, is_api: bool) -> str:
    if resp.status_code == 302:
        return LOGIN if "/inloggen" in resp.headers.get("Location", "") else REDIRECT
    if resp.status_code == 200:
        return OK
    if is_api and resp.status_code in (401, 403, 404):
        assert resp.mimetype == "application/problem+json", resp.mimetype
    return str(resp.status_code)


def test_authorization_matrix(app):
    """Ask every endpoint as every role of both regions; list every answer that differs."""
    ids, session_ids, bearer = _world()
    wrong = []
    for key, c in MATRIX.items():
        url = _fill(c.url, ids)
        for role in ROLES:
            expected = c.answers[role]
            if expected == ALLOWED:
                continue
            client = app.test_client()
            headers = {}
            if role != "anonymous":
                if c.api:
                    headers["Authorization"] = f"Bearer {bearer[role]}"
                else:
                    with client.session_transaction() as sess:
                        sess["_user_id"] = _session_id(session_ids[role])
                        sess["_fresh"] = True
            resp = client.open(
                url,
                method=c.method,
                headers=headers,
                data=_fill(c.data, ids),
                json=_fill(c.json, ids) if c.json is not None else None,
            )
            resp.get_data()  # streamed answers (exports) run to their end
            resp.close()
            got = _answer(resp, c.api)
            if got != expected:
                wrong.append(f"{c.method} {url} as {role}: expected {expected}, got {got} (MATRIX[{key!r}])")
            db.session.rollback()
    assert not wrong, f"{len(wrong)} answers differ from the matrix:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer tlb_not-a-real-token", "Basic dXNlcjpwYXNz"])
def test_api_without_a_valid_token_is_401_problem_json(client, app, header):
    resp = client.get("/api/v1/bookings", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "unauthorized"
