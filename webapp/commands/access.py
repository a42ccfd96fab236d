"""``stockroute users …`` and ``stockroute tokens …``: accounts and API tokens.

A token is printed once, by ``tokens create``; only its hash is stored, so a
lost token cannot be shown again: revoke it and make another.
"""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ledger.access import ROLES, User, create_token, create_user, list_tokens, revoke_token
from ledger.db import read_only, unit_of_work
from ledger.errors import LedgerError
from webapp.extensions import db
from webapp.limits import DB_INT_MAX


def _fail(err: LedgerError) -> None:
    field = f" ({err.field})" if err.field else ""
    click.echo(f"error{field}: {err.message}", err=True)
    sys.exit(1)


@click.group("users", help="Manage user accounts.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True,
              help="read the password from the first line of standard input")
@with_appcontext
def users_create(username: str, role: str, password_stdin: bool) -> None:
    """Create USERNAME with ROLE; the password is prompted for (twice) unless piped in."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(db.sessions) as session:
            user = create_user(session, username, password, role)
    except LedgerError as err:
        _fail(err)
    click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


@click.group("tokens", help="Create, list and revoke API tokens.")
def tokens_group() -> None:
    pass


@tokens_group.command("create")
@click.option("--name", required=True, help="what the token is for, e.g. 'shopify-sync'")
@click.option("--scopes", required=True, help="comma-separated, e.g. inventory:read,orders:write")
@click.option("--expires-days", type=click.IntRange(min=1), default=None,
              help="days until it expires (default: never)")
@click.option("--user", "username", default=None,
              help="owner; the token may not exceed this user's role")
@with_appcontext
def tokens_create(name: str, scopes: str, expires_days: int | None, username: str | None) -> None:
    """Create a token and print it ONCE on standard output."""
    try:
        with unit_of_work(db.sessions) as session:
            owner = None
            if username is not None:
                owner = session.scalar(select(User).where(User.username == username))
                if owner is None or not owner.active:
                    raise LedgerError(f"no active user {username!r}", field="user")
            token, plaintext = create_token(session, name, scopes, expires_days=expires_days,
                                            created_by=owner)
            token_id, expires = token.id, token.view()["expires_at"]
    except LedgerError as err:
        _fail(err)
    click.echo(f"token {token_id} ({name}) created; expires: {expires or 'never'}. "
               "It is shown only now: store it safely.", err=True)
    click.echo(plaintext)


@tokens_group.command("list")
@with_appcontext
def tokens_list() -> None:
    """Every token as a JSON line: id, name, prefix, scopes, dates. Never the secret."""
    with read_only(db.sessions) as session:
        rows = [t.view() for t in list_tokens(session)]
    for row in rows:
        click.echo(json.dumps(row))


@tokens_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1, DB_INT_MAX))
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Revoke token ID at once; requests with it are refused from now on."""
    try:
        with unit_of_work(db.sessions) as session:
            token = revoke_token(session, token_id)
            prefix = token.prefix
    except LedgerError as err:
        _fail(err)
    click.echo(f"revoked token {token_id} ({prefix})")


commands = [users_group, tokens_group]
