"""The skeleton: pages answer in Dutch, English on request, errors in the right form."""


def test_home_is_dutch_by_default(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert 'lang="nl"' in resp.text
    assert "Techniekonderwijs boeken voor uw klas" in resp.text


def test_english_switch(client):
    assert client.get("/taal/en?next=/").status_code == 405  # a GET changes nothing
    home = client.get("/").text
    assert 'lang="nl"' in home
    assert '<form method="post" action="/taal/en"' in home and 'name="csrf_token"' in home  # a button in the layout
    resp = client.post("/taal/en", data={"next": "/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.get("/")
    assert 'lang="en"' in resp.text
    assert "Book technology education for your class" in resp.text


def test_language_switch_refuses_open_redirect(client):
    resp = client.post("/taal/nl", data={"next": "//evil.example/"})
    assert resp.headers["Location"] == "/"


def test_unknown_page_is_a_dutch_404(client):
    resp = client.get("/bestaat-niet")
    assert resp.status_code == 404
    assert "Deze pagina bestaat niet" in resp.text


def test_api_errors_are_problem_json(client):
    resp = client.get("/api/v1/bestaat-niet")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "not_found"


def test_security_headers(client):
    resp = client.get("/")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_health(client):
    resp = client.get("/health")
    assert resp.status_code == 200 and resp.get_json()["database"] is True


def test_every_menu_item_of_every_role_is_a_page(app):
    """The menu names endpoints; a misspelt or removed one is an error, never left out silently."""
    from app.auth.models import Role
    from app.web import _nav_spec, nav_items

    spec = _nav_spec()
    with app.test_request_context("/"):
        for role in Role:

            class Someone:
                pass

            user = Someone()
            user.role = role
            items = nav_items(user)
            assert len(items) == len(spec.get(role.value, []))
            assert all(item["url"].startswith("/") for item in items)


def test_every_scheduled_job_module_exists_and_declares_its_jobs():
    from importlib import import_module

    from app.scheduler import JOB_MODULES, all_jobs

    for path in JOB_MODULES:
        assert isinstance(import_module(path).JOBS, list), path
    assert "booking.expire_offers" in all_jobs()


def test_static_urls_carry_the_fingerprint_of_their_content(app, tmp_path):
    import hashlib
    import os

    from flask import url_for

    with app.test_request_context("/"):
        url = url_for("static", filename="css/app.css")
    with open(os.path.join(app.static_folder, "css/app.css"), "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:12]
    assert url.endswith(f"/static/css/app.css?v={digest}")
    client = app.test_client()
    resp = client.get(url)
    assert resp.status_code == 200
    # the fingerprinted URL is kept a year; the file under its plain name, or an old
    # fingerprint, is revalidated each time
    assert resp.cache_control.max_age == 365 * 24 * 3600 and resp.cache_control.public
    for other in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        again = client.get(other)
        assert again.status_code == 200 and again.cache_control.max_age in (None, 0), other
    assert f'href="{url}"' in client.get("/").get_data(as_text=True)
