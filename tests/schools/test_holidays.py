from datetime import date

from app.auth.models import HolidayRegion
from app.extensions import db
from app.schools.holidays import holidays_for, import_holidays, is_school_holiday


def test_import_is_idempotent_and_queries_work(app):
    created, updated, bad = import_holidays()
    assert created >= 36 and updated == 0 and bad == []
    assert import_holidays() == (0, 0, [])
    db.session.commit()
    periods = holidays_for(HolidayRegion.ZUID, date(2026, 9, 1), date(2026, 12, 31))
    assert [p.name for p in periods] == ["Herfstvakantie", "Kerstvakantie"]
    assert is_school_holiday(date(2026, 10, 12), periods)  # zuid: autumn week starts 10 Oct
    assert not is_school_holiday(date(2026, 10, 20), periods)
    assert is_school_holiday(date(2027, 1, 1), periods)


def test_bad_rows_are_reported(app, tmp_path):
    f = tmp_path / "h.csv"
    f.write_text(
        "holiday_region,school_year,name,starts_on,ends_on\nwest,2026,X,2026-01-01,2026-01-02\n"
        "noord,2026,Y,2026-01-05,2026-01-01\nnoord,2026,Z,2026-01-01,2026-01-02\n"
    )
    created, updated, bad = import_holidays(f)
    assert created == 1 and [line for line, _ in bad] == [2, 3]
