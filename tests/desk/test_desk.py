"""The coordinator's desk: search and export, bulk actions, messages, the week grid, undo,
and the history in words."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.booking import services as booking_services
from app.booking.history import describe_event
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.desk import services
from app.extensions import db
from app.labs.models import Session
from app.timeutil import to_local
from tests import factories

NOW = datetime.now(timezone.utc)


def _world():
    region = factories.region()
    venue = factories.venue(region, name="Techlab Doetinchem")
    offer = factories.offer(
        region,
        venue,
        title="Robots bouwen",
        groep_min=5,
        groep_max=8,
        capacity_classes=2,
        capacity_pupils=60,
        adults_per_class=1,
    )
    s1 = factories.session(offer, NOW + timedelta(days=30))
    s2 = factories.session(offer, NOW + timedelta(days=31))
    a = factories.school(region, name="De Vlinder", city="Zelhem")
    b = factories.school(region, name="Het Kompas", city="Winterswijk")
    c = factories.school(region, name="De Regenboog", city="Ulft")
    ta, tb, tc = factories.teacher(a), factories.teacher(b), factories.teacher(c)
    coord = factories.user("coordinator", region=region, venues=[venue])
    coord.name = "Carla Coördinator"
    leader = factories.user("programme_leader", region=region)
    db.session.commit()
    bookings = []
    for t, s in ((ta, s1), (tb, s1), (tc, s2)):
        bookings.append(
            booking_services.create_booking(
                t,
                s.id,
                booking_services.ClassDetails(
                    t.school_id, "7", 24, 2, contact_name="Juf", contact_email=f"juf{t.id}@school.nl"
                ),
            )
        )
    db.session.commit()
    return dict(
        region=region,
        venue=venue,
        offer=offer,
        s1=s1,
        s2=s2,
        coord=coord,
        leader=leader,
        teachers=(ta, tb, tc),
        bookings=bookings,
    )


def test_search_filters_by_school_offer_date_and_status(app):
    w = _world()
    coord = w["coord"]
    rows, total = services.search(coord, services.BookingFilter(school="kompas"))
    assert total == 1 and rows[0].school.name == "Het Kompas"
    rows, total = services.search(coord, services.BookingFilter(school="ulft"))
    assert [r.school.name for r in rows] == ["De Regenboog"]
    day2 = to_local(w["s2"].starts_at).date()
    rows, total = services.search(coord, services.BookingFilter(date_from=day2, date_to=day2))
    assert total == 1
    rows, total = services.search(coord, services.BookingFilter(offer_id=w["offer"].id, status="confirmed"))
    assert total == 3
    rows, total = services.search(coord, services.BookingFilter(status="cancelled"))
    assert total == 0
    # another region's coordinator sees none of them
    other = factories.user("coordinator", region=factories.region(), venues=[])
    db.session.commit()
    assert services.search(other, services.BookingFilter())[1] == 0


def test_page_keeps_filters_in_the_url_and_exports_dutch_csv(client, app, login):
    w = _world()
    login(w["coord"])
    page = client.get("/bureau/?school=vlinder")
    assert page.status_code == 200
    assert "De Vlinder" in page.text and "Het Kompas" not in page.text
    assert 'value="vlinder"' in page.text and "school=vlinder" in page.text  # the export link keeps the filter
    resp = client.get("/bureau/boekingen.csv?school=vlinder")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Datum" and len(rows) == 2 and rows[1][4] == "De Vlinder" and rows[1][11] == "Bevestigd"


def test_teacher_may_not_use_the_desk(client, app, login):
    w = _world()
    login(w["teachers"][0])
    assert client.get("/bureau/").status_code == 403
    assert client.get("/bureau/week").status_code == 403


def test_bulk_cancel_goes_through_the_service_and_says_per_booking(client, app, login, mailbox, drain_outbox):
    w = _world()
    b1, b2, b3 = w["bookings"]
    booking_services.cancel_booking(w["coord"], b3.id, "dubbel")
    db.session.commit()
    login(w["coord"])
    resp = client.post(
        "/bureau/bulk", data={"action": "cancel", "reason": "Storing in het lab", "booking_id": [b1.id, b2.id, b3.id]}
    )
    assert resp.status_code == 200
    assert "Gelukt: 2. Niet gelukt: 1." in resp.text and "al geannuleerd" in resp.text
    db.session.expire_all()
    assert db.session.get(Booking, b1.id).status == BookingStatus.CANCELLED
    assert db.session.get(Session, w["s1"].id).booked_classes == 0
    drain_outbox()
    assert any(f"juf{w['teachers'][0].id}@school.nl" in m["To"] for m in mailbox)


def test_bulk_without_reason_changes_nothing(client, app, login):
    w = _world()
    login(w["coord"])
    resp = client.post("/bureau/bulk", data={"action": "cancel", "reason": " ", "booking_id": [w["bookings"][0].id]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, w["bookings"][0].id).status == BookingStatus.CONFIRMED


def test_bulk_refuses_a_booking_of_another_region(app):
    w = _world()
    other = factories.user("coordinator", region=factories.region(), venues=[])
    db.session.commit()
    try:
        services.bulk_cancel(other, [w["bookings"][0].id], "x")
    except Exception as exc:
        assert getattr(exc, "status", None) == 403
    else:
        raise AssertionError("another region's booking was cancelled")


def test_bulk_move_asks_admission(app):
    w = _world()
    b1, b2, b3 = w["bookings"]
    # s2 has room for one more class (capacity 2, one booked): one moves, the second is refused
    result = services.bulk_move(w["coord"], [b1.id, b2.id], w["s2"].id, "Lab dicht", offer_id=w["offer"].id)
    db.session.commit()
    assert result.done == 1 and result.failed == 1
    s1, s2 = db.session.get(Session, w["s1"].id), db.session.get(Session, w["s2"].id)
    assert (s1.booked_classes, s2.booked_classes) == (1, 2)


def test_message_a_day_reaches_each_contact_and_is_logged(client, app, login, mailbox, drain_outbox):
    w = _world()
    login(w["coord"])
    day = to_local(w["s1"].starts_at).date().isoformat()
    page = client.get(f"/bureau/bericht?venue_id={w['venue'].id}&dag={day}")
    assert page.status_code == 200 and "De Vlinder" in page.text and "De Regenboog" not in page.text
    bad = client.post(f"/bureau/bericht?venue_id={w['venue'].id}&dag={day}", data={"subject": "", "text": "x"})
    assert bad.status_code == 422 and "onderwerp" in bad.text
    resp = client.post(
        f"/bureau/bericht?venue_id={w['venue'].id}&dag={day}",
        data={"subject": "Parkeren bij het lab", "text": "Bussen parkeren aan de achterkant."},
    )
    assert resp.status_code == 200 and "Gelukt: 2." in resp.text
    drain_outbox()
    got = [m for m in mailbox if m["Subject"] == "Parkeren bij het lab"]
    assert len(got) == 2
    assert "Bussen parkeren aan de achterkant." in got[0].get_body(("plain",)).get_content()
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.action == "message")).first()
    assert (
        describe_event(event) == "Bericht verstuurd: Parkeren bij het lab door Carla Coördinator (Techlab-coördinator)"
    )


def test_week_grid_shows_occupancy(client, app, login):
    w = _world()
    login(w["coord"])
    day = to_local(w["s1"].starts_at).date().isoformat()
    page = client.get(f"/bureau/week?datum={day}")
    assert page.status_code == 200
    assert "<caption>" in page.text and 'scope="row">Techlab Doetinchem' in page.text
    assert "2 van 2 klassen, 48 van 60 leerlingen" in page.text and "vol" in page.text
    assert "print.css" in page.text and "Vorige week" in page.text
    # the programme leader looks at the region's week too (without actions)
    client.post("/uitloggen")
    login(w["leader"])
    page = client.get(f"/bureau/week?datum={day}")
    assert page.status_code == 200 and "Robots bouwen" in page.text and "Bericht aan de scholen" not in page.text


def test_undo_cancel_within_grace_when_the_place_is_free(client, app, login):
    w = _world()
    teacher = w["teachers"][0]
    b1 = w["bookings"][0]
    login(teacher)
    resp = client.post(f"/boekingen/{b1.id}/annuleren", follow_redirects=True)
    assert "Ongedaan maken" in resp.text
    resp = client.post(f"/boekingen/{b1.id}/herstellen", follow_redirects=True)
    assert "ongedaan gemaakt" in resp.text
    db.session.expire_all()
    b = db.session.get(Booking, b1.id)
    assert b.status == BookingStatus.CONFIRMED and db.session.get(Session, w["s1"].id).booked_classes == 2
    assert "Annulering ongedaan gemaakt door" in resp.text  # the history, in words


def test_undo_refused_after_grace_or_when_the_place_is_taken(app):
    w = _world()
    ta, tb, tc = w["teachers"]
    b1 = w["bookings"][0]
    booking_services.cancel_booking(ta, b1.id)
    db.session.commit()
    later = db.session.get(Booking, b1.id).cancelled_at + timedelta(minutes=15, seconds=1)
    try:
        booking_services.undo_cancel(ta, b1.id, now=later)
    except Exception as exc:
        assert exc.code == "undo_expired"
    else:
        raise AssertionError("undone after the grace period")
    db.session.rollback()
    # the free place goes to another class meanwhile: the undo is refused by admission
    booking_services.create_booking(tc, w["s1"].id, booking_services.ClassDetails(tc.school_id, "8", 20, 2))
    db.session.commit()
    try:
        booking_services.undo_cancel(ta, b1.id)
    except Exception as exc:
        assert exc.code == "place_taken"
    else:
        raise AssertionError("undone into a full session")
    db.session.rollback()
    assert db.session.get(Booking, b1.id).status == BookingStatus.CANCELLED


def test_history_in_words_never_shows_codes(client, app, login):
    w = _world()
    b1 = w["bookings"][0]
    booking_services.move_booking(w["coord"], b1.id, w["s2"].id, "Lab dicht")
    db.session.commit()
    login(w["coord"])
    page = client.get(f"/boekingen/{b1.id}")
    assert page.status_code == 200
    assert "Geboekt door" in page.text and "Verplaatst van" in page.text and "(reden: Lab dicht)" in page.text
    for code in (": create", ": move", "bus_declined"):
        assert code not in page.text
    # a job's change names the system
    event = BookingEvent(action="offer_expired", to_status="cancelled")
    assert describe_event(event).endswith("door het systeem")


# ------------------------------------------------------------------ select all, and the move's target chooser


def _other_offer(w):
    other = factories.offer(w["region"], w["venue"], title="Bruggen bouwen", groep_min=5, groep_max=8)
    later = factories.session(other, NOW + timedelta(days=40))
    db.session.commit()
    return other, later


def test_the_move_chooser_offers_only_the_filtered_offers_sessions(client, app, login):
    w = _world()
    other, later = _other_offer(w)
    cancelled = factories.session(w["offer"], NOW + timedelta(days=45))
    db.session.commit()
    booking_services.cancel_session(w["coord"], cancelled.id, "Storing")
    db.session.commit()
    login(w["coord"])
    page = client.get(f"/bureau/?offer_id={w['offer'].id}").text
    chooser = page.split('id="act-move-to"', 1)[1].split("</select>", 1)[0]
    assert f'value="{w["s1"].id}"' in chooser and f'value="{w["s2"].id}"' in chooser
    assert f'value="{later.id}"' not in chooser and f'value="{cancelled.id}"' not in chooser
    assert f'<input type="hidden" name="offer_id" value="{w["offer"].id}">' in page
    assert "Nieuwe les van Robots bouwen" in page
    unfiltered = client.get("/bureau/").text
    assert 'id="act-move-to"' not in unfiltered and 'value="move"' not in unfiltered
    assert "Verplaatsen kan alleen met een filter op één aanbod" in unfiltered
    empty = client.get(f"/bureau/?offer_id={other.id}&status=confirmed").text  # no bookings: no bulk form
    assert 'id="bulk-form"' in empty and "Geen boekingen gevonden." in empty


def test_select_all_is_a_labelled_checkbox_shown_by_the_script(client, app, login):
    w = _world()
    login(w["coord"])
    page = client.get("/bureau/").text
    box = page.split('data-select-all="booking_id"', 1)[1].split("</span>", 1)[0]
    assert 'data-count="pick-count"' in box and " hidden>" in box  # hidden until the script shows it
    assert '<input type="checkbox" id="pick-all">' in box and '<label for="pick-all"' in box
    assert "Alle boekingen op deze pagina kiezen" in box
    assert page.count('name="booking_id"') == 3  # without the script every booking is still a checkbox
    assert "/static/js/select-all.js" in page
    script = client.get("/static/js/select-all.js")
    assert script.status_code == 200 and "data-select-all" in script.text
    script.close()
    login(w["leader"])  # looks, does not act: no boxes, no script
    looking = client.get("/bureau/").text
    assert "select-all.js" not in looking and 'name="booking_id"' not in looking


def test_bulk_move_refuses_a_target_outside_the_filtered_offer(app):
    w = _world()
    b1 = w["bookings"][0]
    other, later = _other_offer(w)
    for offer_id, session_id, field in (
        (None, w["s2"].id, "offer_id"),  # no filter on one offer
        (w["offer"].id, later.id, "session_id"),  # a session of another offer
        (other.id, w["s2"].id, "session_id"),  # the filter's offer does not hold the target
        (w["offer"].id, None, "session_id"),
    ):
        try:
            services.bulk_move(w["coord"], [b1.id], session_id, "Lab dicht", offer_id=offer_id)
        except services.InvalidInput as exc:
            assert exc.field == field
        else:
            raise AssertionError(f"moved with offer {offer_id} to session {session_id}")
    db.session.rollback()
    assert db.session.get(Booking, b1.id).session_id == w["s1"].id


def test_bulk_move_from_the_page_is_committed_by_the_unit_of_work(client, app, login):
    w = _world()
    b1, b2, _b3 = w["bookings"]
    other, later = _other_offer(w)
    login(w["coord"])
    back = f"/bureau/?offer_id={w['offer'].id}"
    refused = client.post(
        "/bureau/bulk",
        data={
            "action": "move",
            "reason": "Lab dicht",
            "booking_id": [b1.id],
            "session_id": later.id,
            "offer_id": w["offer"].id,
            "back": back,
        },
    )
    assert refused.status_code == 302 and refused.headers["Location"].endswith(back)
    db.session.rollback()
    assert db.session.get(Booking, b1.id).session_id == w["s1"].id
    moved = client.post(
        "/bureau/bulk",
        data={
            "action": "move",
            "reason": "Lab dicht",
            "booking_id": [b1.id],
            "session_id": w["s2"].id,
            "offer_id": w["offer"].id,
            "back": back,
        },
    )
    assert moved.status_code == 200 and "Gelukt: 1. Niet gelukt: 0." in moved.text
    db.session.rollback()  # what the request committed stays
    db.session.expire_all()
    assert db.session.get(Booking, b1.id).session_id == w["s2"].id
    assert db.session.get(Booking, b2.id).session_id == w["s1"].id
