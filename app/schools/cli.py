"""`flask schools …`: school data (DUO import, regions, holidays)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import Region
from app.extensions import db
from app.schools.models import School

schools_cli = AppGroup("schools", help="School data: DUO import, regions, holidays.")


@schools_cli.command("import-duo")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--from-year", default=2019, show_default=True, help="First school year of pupil counts to keep.")
def import_duo_cmd(files, from_year):
    """Import DUO files: locations, historical totals, pupils per age (any order)."""
    from app.schools.duo import import_files

    bar_state = {}

    def progress(done, total):
        bar = bar_state.get("bar")
        if bar is None or bar_state.get("total") != total or done < bar_state.get("done", 0):
            if bar is not None:
                bar.render_finish()
            bar = click.progressbar(length=total, label="  rows", file=sys.stderr)
            bar_state.update(bar=bar, total=total, done=0)
        bar.update(done - bar_state["done"])
        bar_state["done"] = done

    report = import_files(files, from_year=from_year, progress=progress)
    if bar_state.get("bar") is not None:
        bar_state["bar"].render_finish()
    for f in report.files:
        click.echo(f"{f.path}")
        if f.error:
            click.echo(f"  NOT IMPORTED: {f.error}")
            continue
        years = f" years {f.years[0]}–{f.years[-1]}" if f.years else ""
        click.echo(
            f"  {f.kind}: {f.rows} rows{years}; created {f.created}, updated {f.updated}, "
            f"unchanged {f.unchanged}, bad {f.bad_total}"
        )
        for note in f.notes:
            click.echo(f"  note: {note}")
        for bad in f.bad_rows[:50]:
            click.echo(f"  line {bad.line}: {bad.reason}")
        if f.bad_total > 50:
            click.echo(f"  … and {f.bad_total - 50} more bad rows")
    total = db.session.scalar(select(db.func.count(School.id)))
    with_coords = db.session.scalar(select(db.func.count(School.id)).where(School.latitude.is_not(None)))
    click.echo(f"schools in the database: {total} ({with_coords} with coordinates)")
    if not report.ok:
        raise SystemExit(1)


@schools_cli.command("assign-region")
@click.option("--region", "region_code", required=True)
@click.option("--corop", "corop_codes", multiple=True, help="COROP area code (repeatable).")
@click.option("--municipality", "municipality_codes", multiple=True, help="Municipality code (repeatable).")
@click.option("--by", "actor_email", required=True, help="E-mail of the account making the change (its rights apply).")
def assign_region_cmd(region_code, corop_codes, municipality_codes, actor_email):
    """Assign the schools of COROP areas or municipalities to a region, as the page does: from the
    running school year on (earlier years keep their region), recorded for an undo, and only as far
    as the account's rights go (permissions.can_reassign_area)."""
    from app.admin import services
    from app.auth.models import User
    from app.errors import DomainError

    region = db.session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        raise click.ClickException(f"no region {region_code}")
    actor = db.session.scalar(select(User).where(db.func.lower(User.email) == actor_email.strip().lower()))
    if actor is None or not actor.active:
        raise click.ClickException(f"no active account {actor_email}")
    if not corop_codes and not municipality_codes:
        raise click.ClickException("give --corop or --municipality")
    area, codes = ("corop", corop_codes) if corop_codes else ("municipality", municipality_codes)
    try:
        change = services.assign_schools_to_region(actor, region, area, list(codes))
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"refused: {exc.message}") from None
    db.session.commit()
    click.echo(
        f"{change.schools} schools assigned to {region.code} (change {change.id}, {change.teachers} teachers moved)"
    )


@schools_cli.command("import-holidays")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
def import_holidays_cmd(file):
    """Load school holidays (holiday_region,school_year,name,starts_on,ends_on); default: data/holidays.csv."""
    from app.schools.holidays import HolidayFileError, import_holidays

    try:
        created, updated, bad = import_holidays(file)
    except (HolidayFileError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"not imported: {exc}") from None
    for line, reason in bad:
        click.echo(f"line {line}: {reason}")
    db.session.commit()
    click.echo(f"holidays: {created} created, {updated} updated, {len(bad)} bad rows")
