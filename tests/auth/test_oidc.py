"""Sign-in with a school account through a real OpenID provider (tests/oidc_provider, node).

Every sign-in here goes through the provider's authorization, sign-in page and token
endpoint, and the ID token it signs is checked against its published keys: nothing of the
protocol is mocked. The accounts of the provider carry Entree's claims (institution BRIN
or location code, eduPersonAffiliation).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from sqlalchemy import func, select

from app.auth.models import Role, User
from app.auth.oidc_models import OidcIdentity
from app.extensions import db
from tests import factories
from tests import oidc_support
from tests.oidc_support import LABEL, provider_sign_in

# the fixtures of the test provider
oidc_provider = oidc_support.oidc_provider
with_provider = oidc_support.with_provider


def _schools():
    region = factories.region()
    linde = factories.school(region, brin="07AB", location_code="07AB00", name="OBS De Linde")
    rb_main = factories.school(region, brin="09XY", location_code="09XY00", name="De Regenboog, hoofdlocatie")
    rb_other = factories.school(region, brin="09XY", location_code="09XY01", name="De Regenboog, Dorpsstraat")
    db.session.commit()
    return region, linde, rb_main, rb_other


def _users(email=None):
    stmt = select(User)
    if email:
        stmt = stmt.where(User.email == email)
    return db.session.scalars(stmt).all()


def test_sign_in_page_lists_the_providers(client, with_provider):
    page = client.get("/inloggen").get_data(as_text=True)
    assert f"Inloggen met {LABEL}" in page
    assert 'href="/inloggen/via/test"' in page


def test_no_providers_no_buttons(client):
    page = client.get("/inloggen").get_data(as_text=True)
    assert "schoolaccount" not in page
    assert client.get("/inloggen/via/test").status_code == 404


def test_start_uses_pkce_state_and_nonce(client, with_provider):
    resp = client.get("/inloggen/via/test")
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(with_provider.issuer)
    for part in (
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "response_type=code",
        "scope=openid+profile+email",
    ):
        assert part in location, part


def test_teacher_is_linked_to_the_school_of_their_brin(client, with_provider):
    region, linde, *_ = _schools()
    resp = provider_sign_in(client, "juf-anna")
    assert resp.status_code == 302 and resp.headers["Location"] == "/", resp.data[:500]
    user = _users("anna.devries@obs-de-linde.example")[0]
    assert (user.role, user.school_id, user.region_id, user.name) == (
        Role.TEACHER,
        linde.id,
        region.id,
        "Anna de Vries",
    )
    assert user.password_hash is None and user.last_login_at is not None
    identity = db.session.scalar(select(OidcIdentity).where(OidcIdentity.user_id == user.id))
    assert (identity.provider, identity.subject, identity.institution) == ("test", "juf-anna", "07AB")
    # signed in like a password sign-in: a server-side sign-in session; the teacher's pages open
    assert client.get("/boekingen/").status_code == 200
    # signing in again finds the same account
    client.post("/uitloggen")
    assert provider_sign_in(client, "juf-anna").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(OidcIdentity)) == 1


def test_a_pupil_is_refused(client, with_provider):
    _schools()
    resp = provider_sign_in(client, "leerling-daan")
    assert resp.status_code == 403
    assert "Dit is een leerlingaccount" in resp.get_data(as_text=True)
    assert _users() == []
    assert client.get("/boekingen/").status_code == 302  # not signed in


def test_several_locations_the_teacher_picks_once(client, with_provider):
    region, _linde, rb_main, rb_other = _schools()
    resp = provider_sign_in(client, "meester-bram")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/inloggen/via/test/school-kiezen")
    page = client.get("/inloggen/via/test/school-kiezen").get_data(as_text=True)
    assert "De Regenboog, hoofdlocatie" in page and "De Regenboog, Dorpsstraat" in page and "OBS De Linde" not in page
    assert _users() == []  # nothing made before the choice
    # a school that was not among the choices is refused
    assert client.post("/inloggen/via/test/school-kiezen", data={"school": _linde.id}).status_code == 422
    resp = client.post("/inloggen/via/test/school-kiezen", data={"school": rb_other.id})
    assert resp.status_code == 302
    user = _users("bram.jansen@de-regenboog.example")[0]
    assert (user.school_id, user.region_id) == (rb_other.id, region.id)
    assert client.get("/boekingen/").status_code == 200
    # the next time: no question
    client.post("/uitloggen")
    assert provider_sign_in(client, "meester-bram").headers["Location"] == "/"
    # the choice page is gone once used
    assert client.get("/inloggen/via/test/school-kiezen").status_code == 401


def test_a_location_code_names_the_location(client, with_provider):
    _region, _linde, _rb_main, rb_other = _schools()
    assert provider_sign_in(client, "juf-carla").headers["Location"] == "/"
    assert _users("carla.smit@de-regenboog.example")[0].school_id == rb_other.id


def test_a_school_outside_every_region_is_told_so(client, with_provider):
    factories.school(None, brin="88ZZ", location_code="88ZZ00", name="De Buitenschool")
    db.session.commit()
    resp = provider_sign_in(client, "juf-eva")
    assert resp.status_code == 403
    text = resp.get_data(as_text=True)
    assert "De Buitenschool" in text and "niet bij een regio" in text
    assert _users() == []


def test_an_unknown_school_is_told_so(client, with_provider):
    resp = provider_sign_in(client, "juf-eva")
    assert resp.status_code == 403
    assert "Uw school (88ZZ) is niet bekend" in resp.get_data(as_text=True)


def test_an_account_with_the_verified_address_is_linked(client, with_provider):
    _region, linde, *_ = _schools()
    existing = factories.teacher(linde, email="anna.devries@obs-de-linde.example")
    db.session.commit()
    assert provider_sign_in(client, "juf-anna").headers["Location"] == "/"
    assert [u.id for u in _users()] == [existing.id]
    identity = db.session.scalar(select(OidcIdentity))
    assert identity.user_id == existing.id
    # the password still works too (the region did not turn it off)
    client.post("/uitloggen")
    assert client.post("/inloggen", data={"email": existing.email, "password": factories.PASSWORD}).status_code == 302


def test_an_unverified_address_is_never_merged(client, with_provider):
    _region, linde, *_ = _schools()
    existing = factories.teacher(linde, email="fenna@obs-de-linde.example")
    db.session.commit()
    resp = provider_sign_in(client, "juf-fenna")
    assert resp.status_code == 403
    assert "bevestigt niet dat dit adres van u is" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OidcIdentity)) == 0
    assert [u.id for u in _users()] == [existing.id]


def test_a_deactivated_linked_account_is_refused(client, with_provider):
    _schools()
    provider_sign_in(client, "juf-anna")
    client.post("/uitloggen")
    user = _users("anna.devries@obs-de-linde.example")[0]
    user.active = False
    db.session.commit()
    resp = provider_sign_in(client, "juf-anna")
    assert resp.status_code == 403 and "gedeactiveerd" in resp.get_data(as_text=True)


def test_callback_without_our_state_is_refused(client, with_provider):
    resp = client.get("/inloggen/via/test/terug?code=abc&state=not-ours")
    assert resp.status_code == 401
    assert "verlopen of al gebruikt" in resp.get_data(as_text=True)
    resp = client.get("/inloggen/via/test/terug?error=access_denied&state=x")
    assert resp.status_code == 401


def test_the_same_answer_twice_is_refused(client, with_provider):
    """The provider's redirect back (code and state) replayed: the state is spent."""
    import requests
    from urllib.parse import urljoin, urlsplit

    _schools()
    resp = client.get("/inloggen/via/test")
    browser, url = requests.Session(), resp.headers["Location"]
    while urlsplit(url).port != 5000:
        r = browser.get(url, allow_redirects=False, timeout=10)
        if r.status_code == 200:
            action = r.text.split('action="', 1)[1].split('"', 1)[0]
            r = browser.post(urljoin(url, action), data={"login": "juf-anna"}, allow_redirects=False, timeout=10)
        url = urljoin(url, r.headers["Location"])
    back = urlsplit(url)
    path = back.path + "?" + back.query
    assert client.get(path).status_code == 302
    client.post("/uitloggen")
    assert client.get(path).status_code == 401


def test_password_sign_in_off_per_region(client, with_provider):
    region, linde, *_ = _schools()
    region.password_login_off = True
    teacher = factories.teacher(linde)
    coordinator = factories.user(Role.COORDINATOR, region=region)
    admin = factories.user(Role.ADMIN)
    other_region_teacher = factories.teacher(factories.school(factories.region()))
    db.session.commit()
    resp = client.post("/inloggen", data={"email": teacher.email, "password": factories.PASSWORD})
    assert resp.status_code == 401
    text = resp.get_data(as_text=True)
    assert "In uw regio logt u niet met een wachtwoord in" in text and LABEL in text
    # a wrong password still says only that
    resp = client.post("/inloggen", data={"email": teacher.email, "password": "wrong password here"})
    assert "Onbekend e-mailadres of onjuist wachtwoord" in resp.get_data(as_text=True)
    # the API's token endpoint too
    resp = client.post("/api/v1/auth/token", json={"email": teacher.email, "password": factories.PASSWORD})
    assert resp.status_code == 403 and resp.get_json()["code"] == "password_sign_in_off"
    for user in (coordinator, admin, other_region_teacher):
        assert client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302
        client.post("/uitloggen")
    # the school account still signs in
    assert provider_sign_in(client, "juf-anna").headers["Location"] == "/"


def test_administrator_sees_how_accounts_sign_in_and_sets_the_region(client, with_provider, login):
    region, linde, *_ = _schools()
    factories.teacher(linde, email="wachtwoord@obs-de-linde.example")
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    provider_sign_in(client, "juf-anna")
    client.post("/uitloggen")
    login(admin)
    page = client.get("/regiobeheer/gebruikers").get_data(as_text=True)
    row = page.split("anna.devries@obs-de-linde.example", 1)[1].split("</tr>", 1)[0]
    assert LABEL in row and "wachtwoord" not in row and "Uitgenodigd" not in row
    assert "e-maillink" in row  # a teacher may also ask for a sign-in link
    row = page.split("wachtwoord@obs-de-linde.example", 1)[1].split("</tr>", 1)[0]
    assert "wachtwoord" in row and LABEL not in row and "e-maillink" in row
    row = page.split(admin.email, 1)[1].split("</tr>", 1)[0]
    assert "wachtwoord" in row and "e-maillink" not in row  # the school's roles only
    anna = _users("anna.devries@obs-de-linde.example")[0]
    assert LABEL in client.get(f"/regiobeheer/gebruikers/{anna.id}").get_data(as_text=True)
    # the region's setting
    form = client.get(f"/regiobeheer/regios/{region.id}").get_data(as_text=True)
    assert 'name="password_login_off"' in form
    resp = client.post(
        f"/regiobeheer/regios/{region.id}",
        data={
            "code": region.code,
            "name": region.name,
            "holiday_region": "midden",
            "bus_threshold_km": "6",
            "road_factor": "1.3",
            "classes_per_school_session": "1",
            "offer_hours": "48",
            "password_login_off": "y",
        },
    )
    assert resp.status_code == 302, resp.data[:800]
    db.session.expire_all()
    assert db.session.get(type(region), region.id).password_login_off is True


def test_programme_leader_does_not_set_password_sign_in(client, login):
    region = factories.region()
    region.password_login_off = True
    leader = factories.user(Role.PROGRAMME_LEADER, region=region)
    db.session.commit()
    login(leader)
    assert 'name="password_login_off"' not in client.get(f"/regiobeheer/regios/{region.id}").get_data(as_text=True)
    resp = client.post(
        f"/regiobeheer/regios/{region.id}",
        data={
            "holiday_region": "midden",
            "bus_threshold_km": "6",
            "road_factor": "1.3",
            "classes_per_school_session": "1",
            "offer_hours": "48",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(region), region.id).password_login_off is True  # unchanged


def test_my_data_shows_the_link_and_removal_takes_it(client, with_provider):
    from app.auth.privacy import export_user_data, remove_personal_data

    _schools()
    provider_sign_in(client, "juf-anna")
    user = _users("anna.devries@obs-de-linde.example")[0]
    data = export_user_data(user)
    assert data["sign_in_links"][0]["provider"] == "test"
    assert data["sign_in_links"][0]["subject"] == "juf-anna"
    remove_personal_data(user)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OidcIdentity)) == 0


def test_signing_out_offers_the_providers_sign_out(client, with_provider):
    import html

    import requests

    _schools()
    assert provider_sign_in(client, "juf-anna").status_code == 302
    page = client.post("/uitloggen")
    assert page.status_code == 200 and f"Ook uitloggen bij {LABEL}" in page.text
    assert client.get("/boekingen/").status_code == 302  # signed out here at once
    url = html.unescape(page.text.split('class="button" href="', 1)[1].split('"', 1)[0])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == with_provider.issuer
    query = parse_qs(parts.query)
    assert query["client_id"] == [with_provider.client_id]
    assert query["post_logout_redirect_uri"] == ["http://127.0.0.1:5000/"] and "id_token_hint" not in query
    # the provider accepts it: its own "sign out?" question, which then returns to our home page
    browser = requests.Session()
    ask = browser.get(url, timeout=10)
    assert ask.status_code == 200 and "<form" in ask.text, ask.text[:500]
    action = urljoin(url, ask.text.split('action="', 1)[1].split('"', 1)[0])
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', ask.text))
    done = browser.post(action, data={**fields, "logout": "yes"}, allow_redirects=False, timeout=10)
    assert done.status_code in (302, 303) and done.headers["Location"] == "http://127.0.0.1:5000/"


def test_a_password_sign_in_signs_out_here_only(client, with_provider, login):
    region, linde, *_ = _schools()
    teacher = factories.teacher(linde)
    db.session.commit()
    login(teacher)
    resp = client.post("/uitloggen")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
