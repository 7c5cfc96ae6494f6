"""The series booking page: the picker starts from the masterclass date and proposes the other parts."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.timeutil import local_to_utc
from tests import factories

TODAY = datetime.now(timezone.utc).date()


def _at(days: int, hour: int = 9):
    return local_to_utc(TODAY + timedelta(days=days), time(hour, 0))


def _setup():
    region = factories.region()
    lab, company = factories.venue(region), factories.venue(region)
    offer = factories.series_offer(
        region, lab, company, gaps=((0, 0), (3, 20), (3, 20)), groep_min=6, groep_max=8, adults_per_class=1
    )
    p1, p2, p3 = offer.parts
    at_school = [factories.session(offer, _at(d), part=p1, capacity_pupils=32) for d in range(20, 60, 2)]
    labs = [factories.session(offer, _at(d), part=p2) for d in (40, 50)]
    visits = [factories.session(offer, _at(d), part=p3) for d in range(30, 80, 3)]
    school = factories.school(region)
    teacher = factories.teacher(school)
    db.session.commit()
    return offer, at_school, labs, visits, teacher


FORM = {"groep": "7", "pupils": "24", "adults": "2", "contact_name": "Juf Anna", "contact_email": "anna@school.nl"}


def test_picker_starts_from_the_masterclass_and_books_the_proposal(client, login):
    offer, at_school, labs, visits, teacher = _setup()
    login(teacher)
    step1 = client.get(f"/boekingen/reeks?offer_id={offer.id}&groep=7")
    assert step1.status_code == 200
    assert f'name="anker" id="anker_{labs[0].id}"' in step1.text and f'id="anker_{labs[1].id}"' in step1.text
    assert 'name="part_1"' not in step1.text  # not 50 radio buttons per part
    step2 = client.get(f"/boekingen/reeks?offer_id={offer.id}&anker={labs[0].id}&groep=7")
    assert step2.status_code == 200
    # the proposal is pre-checked; part 1 lies 3..20 days before the lab, part 3 3..20 days after it
    assert f'id="part_2_{labs[0].id}" value="{labs[0].id}" checked' in step2.text
    assert f'value="{labs[1].id}"' not in step2.text
    assert '<option selected value="7">7</option>' in step2.text and '<option value="5">' not in step2.text
    # one places figure for every part: the lab takes 30, so part 1 at school does not promise 32
    assert "tot 32 leerlingen" not in step2.text and "tot 30 leerlingen" in step2.text
    chosen = {}
    for n in (1, 2, 3):
        marker = f'name="part_{n}" id="part_{n}_'
        part = step2.text.split(marker)
        checked = [seg.split('"')[0] for seg in part[1:] if "checked" in seg.split(">")[0]]
        assert len(checked) == 1
        chosen[f"part_{n}"] = checked[0]
    resp = client.post(f"/boekingen/reeks?offer_id={offer.id}&anker={labs[0].id}", data={**FORM, **chosen})
    assert resp.status_code == 302, resp.text[:3000]
    bookings = db.session.scalars(select(Booking).order_by(Booking.part_position)).all()
    assert [b.status for b in bookings] == [BookingStatus.CONFIRMED] * 3
    days = [b.session.starts_at for b in bookings]
    assert days[0] < days[1] < days[2]


def test_reverse_order_is_refused_in_words_not_with_a_negative_gap(client, login):
    offer, at_school, labs, visits, teacher = _setup()
    login(teacher)
    late_part1 = [s for s in at_school if s.starts_at > labs[0].starts_at][0]
    resp = client.post(
        f"/boekingen/reeks?offer_id={offer.id}",
        data={**FORM, "part_1": late_part1.id, "part_2": labs[0].id, "part_3": visits[-1].id},
    )
    assert resp.status_code == 422
    assert "(nu -" not in resp.text and "ligt vóór deel 1" in resp.text
    assert db.session.scalar(select(Booking.id)) is None


def test_choose_every_date_by_hand(client, login):
    offer, at_school, labs, visits, teacher = _setup()
    login(teacher)
    page = client.get(f"/boekingen/reeks?offer_id={offer.id}&zelf=1")
    assert page.status_code == 200 and f'id="part_1_{at_school[0].id}"' in page.text


def test_the_proposals_fit_the_class_size(client, login):
    offer, at_school, labs, visits, teacher = _setup()
    labs[0].capacity_pupils = 20  # the first masterclass takes a class of at most 20
    db.session.commit()
    login(teacher)
    base = f"/boekingen/reeks?offer_id={offer.id}"
    step1 = client.get(base)
    assert f'id="anker_{labs[0].id}"' in step1.text and 'name="leerlingen"' in step1.text
    # a class of 24: only the masterclass where it fits is proposed (pressing "show dates" with
    # the first radio still checked chooses no date yet)
    step1 = client.get(f"{base}&leerlingen=24&herbereken=1&anker={labs[0].id}")
    assert step1.status_code == 200 and "Stap 1" in step1.text
    assert f'id="anker_{labs[0].id}"' not in step1.text and f'id="anker_{labs[1].id}"' in step1.text
    # the number is carried into the class fields of step 2
    step2 = client.get(f"{base}&leerlingen=24&anker={labs[1].id}")
    assert 'name="pupils"' in step2.text and 'value="24"' in step2.text.split('name="pupils"', 1)[1].split(">", 1)[0]
    # a class of 20 still gets both
    step1 = client.get(f"{base}&leerlingen=20&herbereken=1")
    assert f'id="anker_{labs[0].id}"' in step1.text and f'id="anker_{labs[1].id}"' in step1.text


def test_home_shows_upcoming_waiting_and_offered(client, login):
    from app.booking.services import ClassDetails, create_booking

    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, groep_min=6, groep_max=8, adults_per_class=1, title="Bruggen bouwen")
    full = factories.offer(
        region, venue, groep_min=6, groep_max=8, adults_per_class=1, title="Vol aanbod", capacity_pupils=10
    )
    s1 = factories.session(offer, _at(30))
    s2 = factories.session(full, _at(31))
    school, other = factories.school(region), factories.school(region)
    teacher, other_teacher = factories.teacher(school), factories.teacher(other)
    create_booking(other_teacher, s2.id, ClassDetails(other.id, "7", 10, 1, "X", "x@example.org"))
    create_booking(teacher, s1.id, ClassDetails(school.id, "7", 1, 1, "Juf", "juf@example.org", class_name="7A"))
    create_booking(teacher, s2.id, ClassDetails(school.id, "8", 20, 1, "Juf", "juf@example.org"), waitlist=True)
    db.session.commit()
    login(teacher)
    home = client.get("/")
    assert home.status_code == 200
    assert "Uw komende boekingen" in home.text and "Bruggen bouwen" in home.text and "klas 7A" in home.text
    assert "1 leerling)" in home.text  # ngettext, not "1 leerlingen"
    assert "Op de wachtlijst" in home.text and "Vol aanbod" in home.text
