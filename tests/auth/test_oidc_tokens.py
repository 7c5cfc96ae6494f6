"""The ID token check (``app.auth.oidc.verify_id_token``, the one the callback uses) against
crafted tokens: signed with a test key whose JWKS a small HTTP server publishes with a
discovery document, as a provider does. A good token passes; a wrong audience, a bad
signature, a replayed or wrong nonce, an expired token, a wrong issuer and an unsigned
token are refused; the clock skew allowed is bounded."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from app.auth import oidc
from app.auth.oidc import TokenError
from app.extensions import db
from tests.oidc_support import configure

CLIENT_ID = "techlab-crafted"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})  # same kid


@pytest.fixture(scope="module")
def issuer():
    """Discovery document and JWKS over HTTP on a loopback port."""
    state = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/.well-known/openid-configuration":
                body = {
                    "issuer": state["issuer"],
                    "authorization_endpoint": state["issuer"] + "/auth",
                    "token_endpoint": state["issuer"] + "/token",
                    "jwks_uri": state["issuer"] + "/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            elif self.path == "/jwks":
                body = KeySet([KEY]).as_dict(private=False)
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["issuer"] = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state["issuer"]
    server.shutdown()


@pytest.fixture
def provider(app, issuer):
    configure(
        app,
        [
            {
                "name": "crafted",
                "preset": "entree",
                "issuer": issuer,
                "client_id": CLIENT_ID,
                "client_secret": "secret-of-the-crafted-client",
            }
        ],
    )
    try:
        yield oidc.get_provider("crafted")
    finally:
        configure(app, None)


def _token(issuer, key=KEY, alg="RS256", **overrides):
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "person-1",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "email": "juf@school.example",
        "email_verified": True,
        "nlEduPersonHomeOrganizationId": "07AB",
        "eduPersonAffiliation": ["employee"],
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return {
        "id_token": jwt.encode({"alg": alg, "kid": "k1"}, claims, key),
        "access_token": "at",
        "token_type": "Bearer",
    }


def test_a_good_token_passes(provider, issuer):
    claims = oidc.verify_id_token(provider, _token(issuer), "n-1")
    assert claims["sub"] == "person-1" and claims["nlEduPersonHomeOrganizationId"] == "07AB"


def test_wrong_audience_is_refused(provider, issuer):
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, aud="another-client"), "n-1")
    with pytest.raises(TokenError):  # several audiences, no azp naming us
        oidc.verify_id_token(provider, _token(issuer, aud=["another-client", CLIENT_ID], azp="another-client"), "n-1")


def test_bad_signature_is_refused(provider, issuer):
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, key=OTHER_KEY), "n-1")
    good = _token(issuer)["id_token"]
    header, payload, signature = good.split(".")
    tampered_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    with pytest.raises(TokenError):
        oidc.verify_id_token(
            provider, {"id_token": f"{header}.{tampered_payload}.{signature}", "access_token": "at"}, "n-1"
        )


def test_unsigned_token_is_refused(provider, issuer):
    import base64

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    unsigned = (
        b64({"alg": "none"})
        + "."
        + b64({"iss": issuer, "sub": "x", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": "n-1"})
        + "."
    )
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, {"id_token": unsigned, "access_token": "at"}, "n-1")


def test_replayed_nonce_is_refused(provider, issuer):
    token = _token(issuer)
    oidc.verify_id_token(provider, token, "n-1")
    db.session.commit()
    with pytest.raises(TokenError) as exc:
        oidc.verify_id_token(provider, token, "n-1")
    assert "al gebruikt" in exc.value.message
    # another token carrying the spent nonce too
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, sub="person-2"), "n-1")


def test_wrong_or_missing_nonce_is_refused(provider, issuer):
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, nonce="someone-elses"), "n-1")
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, nonce=None), "n-1")
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer), "")


def test_expired_token_is_refused_and_the_skew_is_bounded(app, provider, issuer):
    now = int(time.time())
    assert app.config["OIDC_LEEWAY_SECONDS"] <= oidc.MAX_LEEWAY_SECONDS
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, iat=now - 3600, exp=now - 200, nonce="n-2"), "n-2")
    with pytest.raises(TokenError):  # no expiry at all
        oidc.verify_id_token(provider, _token(issuer, exp=None, nonce="n-3"), "n-3")
    # a few seconds of clock skew pass
    oidc.verify_id_token(provider, _token(issuer, iat=now - 600, exp=now - 20, nonce="n-4"), "n-4")
    # the leeway cannot be configured beyond two minutes
    app.config["OIDC_LEEWAY_SECONDS"] = 3600
    try:
        with pytest.raises(oidc.ConfigError):
            oidc.init_app(app)
        with pytest.raises(TokenError):  # and is capped where it is read
            oidc.verify_id_token(provider, _token(issuer, iat=now - 3600, exp=now - 600, nonce="n-5"), "n-5")
    finally:
        app.config["OIDC_LEEWAY_SECONDS"] = 60


def test_wrong_issuer_is_refused(provider, issuer):
    with pytest.raises(TokenError):
        oidc.verify_id_token(provider, _token(issuer, iss="https://evil.example"), "n-1")


def test_presets_and_configuration_errors():
    ps = oidc.parse_providers(
        json.dumps(
            [
                {
                    "name": "entree",
                    "preset": "entree",
                    "issuer": "https://entree.example",
                    "client_id": "a",
                    "client_secret": "b",
                },
                {
                    "name": "school-ms",
                    "preset": "microsoft",
                    "issuer": "https://login.microsoftonline.com/t1/v2.0",
                    "client_id": "c",
                    "client_secret": "d",
                    "institution_map": {"t1": "07AB"},
                },
                {"name": "google", "preset": "google", "client_id": "e", "client_secret": "f"},
            ]
        )
    )
    entree, ms, google = ps
    assert (entree.institution_claim, entree.affiliation_claim) == (
        "nlEduPersonHomeOrganizationId",
        "eduPersonAffiliation",
    )
    assert (ms.institution_claim, ms.affiliation_claim, ms.label) == ("tid", "roles", "Microsoft")
    assert google.issuer == "https://accounts.google.com" and google.affiliation_claim is None
    person = oidc.person_from_claims(ms, {"sub": "s", "tid": "t1", "roles": ["staff"], "email": "A@B.nl"})
    assert (person.institution, person.email, person.email_verified) == ("07AB", "a@b.nl", False)
    assert oidc.is_staff(ms, person)
    # Google tells no role: nobody books unless the deployment trusts the domain
    gperson = oidc.person_from_claims(google, {"sub": "s", "hd": "school.example", "email": "x@school.example"})
    assert not oidc.is_staff(google, gperson)
    for bad in (
        [{"name": "Bad Name", "issuer": "i", "client_id": "c", "client_secret": "s"}],
        [{"name": "x", "client_id": "c", "client_secret": "s"}],
        [{"name": "x", "preset": "nope", "issuer": "i", "client_id": "c", "client_secret": "s"}],
        [{"name": "x", "issuer": "i", "client_id": "c", "client_secret": "s", "scopes": "email"}],
        {"name": "x"},
    ):
        with pytest.raises(oidc.ConfigError):
            oidc.parse_providers(bad)
