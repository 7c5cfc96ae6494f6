"""Preparation material of an offer: stored safely, served only to who may see the offer,
shown on the offer page and sent with the part-1 reminder."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.booking.jobs import send_reminders
from app.booking.services import ClassDetails, create_series_booking
from app.extensions import db
from app.labs.materials import OfferMaterial, clean_filename, path_of, storage_dir
from tests import factories

PDF = b"%PDF-1.4\n% werkblad\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _world():
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, adults_per_class=1, preparation="Neem een schaar mee.")
    coord = factories.user("coordinator", region=region, venues=[venue])
    school = factories.school(region)
    teacher = factories.teacher(school)
    other_region = factories.region()
    stranger = factories.teacher(factories.school(other_region))
    db.session.commit()
    return offer, coord, teacher, stranger, school


def _upload(client, offer_id, name, content):
    return client.post(
        f"/beheer/aanbod/{offer_id}/materiaal",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_upload_store_show_and_download(app, client, login):
    offer, coord, teacher, stranger, _school = _world()
    login(coord)
    resp = _upload(client, offer.id, "../../etc/Werkblad robots.pdf", PDF)
    assert resp.status_code == 302
    m = db.session.scalars(select(OfferMaterial)).one()
    assert m.filename == "Werkblad robots.pdf" and m.content_type == "application/pdf"
    path = path_of(m)
    # stored outside static, under the materials folder, with a random name
    assert path.parent == storage_dir().resolve() and "Werkblad" not in path.name and "static" not in str(path)
    assert path.read_bytes() == PDF
    client.post("/uitloggen")

    # anonymous: sees that there is material, cannot download it
    page = client.get(f"/aanbod/{offer.id}")
    assert "Neem een schaar mee." in page.text and "Log in om het te downloaden" in page.text
    assert client.get(f"/aanbod/{offer.id}/materiaal/{m.id}").status_code == 302

    login(teacher)
    page = client.get(f"/aanbod/{offer.id}")
    assert "Werkblad robots.pdf" in page.text
    resp = client.get(f"/aanbod/{offer.id}/materiaal/{m.id}")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    client.post("/uitloggen")

    login(stranger)  # another region does not see the offer, nor its files
    assert client.get(f"/aanbod/{offer.id}/materiaal/{m.id}").status_code == 404


def test_refused_files_leave_nothing_behind(app, client, login):
    offer, coord, *_rest = _world()
    app.config["MATERIAL_MAX_BYTES"] = 1024
    try:
        login(coord)
        before = set(storage_dir().iterdir())
        for name, content, says in [
            ("virus.exe", b"MZ" + b"\x00" * 20, "Dit soort bestand kan niet"),
            ("nep.pdf", PNG, "past niet bij de naam"),
            ("groot.pdf", b"%PDF-" + b"x" * 2000, "te groot"),
            ("leeg.pdf", b"", "leeg"),
        ]:
            resp = _upload(client, offer.id, name, content)
            assert resp.status_code == 302
            assert says in client.get(f"/beheer/aanbod/{offer.id}").text, name
        assert db.session.scalar(select(OfferMaterial.id)) is None
        assert set(storage_dir().iterdir()) == before
    finally:
        app.config.pop("MATERIAL_MAX_BYTES", None)


def test_delete_removes_the_file(app, client, login):
    offer, coord, *_rest = _world()
    login(coord)
    _upload(client, offer.id, "plaatje.png", PNG)
    m = db.session.scalars(select(OfferMaterial)).one()
    path = path_of(m)
    assert client.post(f"/beheer/aanbod/{offer.id}/materiaal/{m.id}/verwijderen").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(OfferMaterial.id)) is None and not path.exists()


def test_clean_filename():
    assert clean_filename("..\\..\\windows\\x.pdf") == "x.pdf"
    assert clean_filename("a\r\nb.pdf") == "ab.pdf"
    assert clean_filename("") == "materiaal"
    assert len(clean_filename("x" * 300 + ".pdf")) <= 120 and clean_filename("x" * 300 + ".pdf").endswith(".pdf")


def test_part_one_reminder_carries_the_material(app, client, login, mailbox, drain_outbox):
    region = factories.region()
    lab, company = factories.venue(region), factories.venue(region)
    offer = factories.series_offer(region, lab, company, adults_per_class=1)
    coord = factories.user("coordinator", region=region, venues=[lab])
    school = factories.school(region)
    teacher = factories.teacher(school)
    now = datetime.now(timezone.utc)
    p1, p2, p3 = offer.parts
    s1 = factories.session(offer, now + timedelta(days=2), part=p1)
    s2 = factories.session(offer, now + timedelta(days=6), part=p2)
    s3 = factories.session(offer, now + timedelta(days=12), part=p3)
    create_series_booking(
        teacher,
        offer.id,
        [s1.id, s2.id, s3.id],
        ClassDetails(school.id, "7", 20, 2, "Juf", "juf@example.org"),
        now=now - timedelta(days=30),
    )
    db.session.commit()
    login(coord)
    _upload(client, offer.id, "werkblad.pdf", PDF)
    drain_outbox()
    mailbox.clear()
    db.session.remove()
    app.config["REMINDER_DAYS_BEFORE"] = 3
    assert send_reminders(now) == 1  # part 1 only (parts 2 and 3 are later)
    drain_outbox()
    mails = [m for m in mailbox if m["Subject"].startswith("Herinnering")]
    assert len(mails) == 1
    files = {p.get_filename(): p.get_content() for p in mails[0].iter_attachments()}
    assert files.get("werkblad.pdf") == PDF
    body = mails[0].get_body(("plain",)).get_content()
    assert "Voorbereidingsmateriaal" in body and "werkblad.pdf" in body
