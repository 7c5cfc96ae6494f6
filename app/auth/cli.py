"""`flask users …`: bootstrap accounts and API tokens."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import Region, Role, User
from app.errors import DomainError
from app.extensions import db

users_cli = AppGroup("users", help="Accounts and API tokens.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--school", "school_code", help="School location code (VESTIGINGSCODE), for teachers.")
@click.option("--region", "region_code", help="Region code.")
@click.option("--venue", "venue_ids", multiple=True, type=int, help="Venue id, for coordinators (repeatable).")
@click.option("--name", default="")
@click.option("--password", help="Prompted for when not given.")
def create_user_cmd(email, role, school_code, region_code, venue_ids, name, password):
    """Create a user."""
    from app.auth.services import create_user
    from app.labs.models import Venue
    from app.schools.models import School

    school = None
    if school_code:
        school = db.session.scalar(select(School).where(School.location_code == school_code.upper()))
        if school is None:
            raise click.ClickException(f"no school with code {school_code}")
    region = None
    if region_code:
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise click.ClickException(f"no region with code {region_code}")
    venues = [db.session.get(Venue, v) for v in venue_ids]
    if any(v is None for v in venues):
        raise click.ClickException("unknown venue id")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            email=email, role=Role(role), password=password, region=region, school=school, venues=venues, name=name
        )
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"created {user.email} ({user.role.value})")


@users_cli.command("create-token")
@click.option("--email", required=True)
@click.option("--name", default="cli")
@click.option("--days", type=click.IntRange(1), help="Days the token is valid (at most API_TOKEN_DAYS, the default).")
def create_token_cmd(email, name, days):
    """Create an API token and print it (it is shown only this once). It expires like the
    tokens made on the API keys page or through the API: after API_TOKEN_DAYS at most."""
    from datetime import timedelta

    from flask import current_app

    from app.auth.tokens import create_api_token
    from app.db import utcnow

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    max_days = current_app.config["API_TOKEN_DAYS"]
    expires_at = utcnow() + timedelta(days=min(days or max_days, max_days))
    _, secret = create_api_token(user, name=name, expires_at=expires_at)
    db.session.commit()
    click.echo(secret)
    click.echo(f"expires {expires_at.isoformat(timespec='minutes')}", err=True)


@users_cli.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]))
@click.option("--region", "region_code")
def list_users_cmd(role, region_code):
    """Print the accounts, one e-mail address a line."""
    stmt = select(User.email).order_by(User.email)
    if role:
        stmt = stmt.where(User.role == Role(role))
    if region_code:
        stmt = stmt.join(Region, User.region_id == Region.id).where(Region.code == region_code)
    for email in db.session.scalars(stmt):
        click.echo(email)
