"""`flask demo …`: the demo region (and, with --national, a national data set)."""

from __future__ import annotations

import importlib.util

import click
from flask.cli import AppGroup

from app.demo.regional import DEFAULT_PASSWORD, load_demo, print_accounts, reset_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--password", default=None, help=f"Password of every demo account (default {DEFAULT_PASSWORD}).")
@click.option("--seed", default=2026, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--reset", is_flag=True, help="Remove the demo region first and build it anew.")
@click.option("--national", is_flag=True, help="Build the national data set (all DUO schools, ~80 regions).")
@click.option("--years", default=5, show_default=True, help="School years of bookings (with --national).")
def load_cmd(password, seed, reset, national, years):
    """Load the demo region; a no-op (printing the accounts) when it is there already."""
    if national:
        if importlib.util.find_spec("app.demo.national") is None:
            raise click.ClickException("the national data set is not available in this version")
        from app.demo.national import load_national

        load_national(years=years, seed=seed, password=password or DEFAULT_PASSWORD)
        return
    if reset and reset_demo():
        click.echo("Removed the old demo region.")
    summary = load_demo(password=password or DEFAULT_PASSWORD, seed=seed, echo=click.echo)
    if not summary.created:
        click.echo("The demo region is loaded already (use --reset to rebuild it).")
    print_accounts(summary.region, summary.password if summary.created else password, echo=click.echo)
