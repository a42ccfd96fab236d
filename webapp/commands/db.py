"""``stockroute db …``: create and upgrade the database schema (Alembic)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ledger import migrate
from webapp.extensions import db


@click.group("db", help="Create or upgrade the database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Create the schema, or upgrade it to REVISION (default: the newest)."""
    migrate.upgrade(db.engine, revision)
    click.echo(f"database at revision {migrate.current(db.engine)}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (``base`` drops everything)."""
    migrate.downgrade(db.engine, revision)
    click.echo(f"database at revision {migrate.current(db.engine)}")


@db_group.command("current")
@with_appcontext
def current() -> None:
    """Print the schema revision of the database."""
    click.echo(migrate.current(db.engine) or "empty (run: stockroute db upgrade)")


commands = [db_group]
