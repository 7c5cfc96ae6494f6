"""``flask --app wsgi db-backup FILE`` and ``flask --app wsgi db-restore FILE --yes``."""

from __future__ import annotations

import click

from app.ops.backup import BackupError, backup_database, describe_database, restore_database


@click.command("db-backup")
@click.argument("file", type=click.Path(dir_okay=False))
def db_backup_cmd(file):
    """Write a consistent backup of the database to FILE (pg_dump -Fc, or a SQLite copy)."""
    try:
        result = backup_database(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup of {describe_database()} written to {result.path} ({result.size} bytes)")


@click.command("db-restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm: every row in the database is replaced by the backup's.")
def db_restore_cmd(file, yes):
    """Replace the database's contents with the backup in FILE. Stop web and scheduler first."""
    if not yes:
        raise click.ClickException(
            f"a restore replaces all data in {describe_database()}; "
            "stop the web and scheduler processes and run again with --yes"
        )
    try:
        restore_database(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {describe_database()} from {file}")
