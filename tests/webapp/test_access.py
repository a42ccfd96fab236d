"""Users, roles and API tokens: hashed at rest, shown once, expiring, revocable."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select, text

from ledger.access import (
    ROLE_SCOPES, SCOPES, AccessError, ApiToken, User, authenticate_user, create_token,
    create_user, revoke_token, verify_token,
)
from ledger.db import unit_of_work
from ledger.models import utcnow
from webapp.cli import main


def cli(app, args, input=None):
    return CliRunner().invoke(main, args, obj=ScriptInfo(create_app=lambda: app), input=input)


def all_text_in_database(engine) -> str:
    with engine.connect() as conn:
        rows = [conn.execute(text(f"SELECT * FROM {t}")).all() for t in ("users", "api_tokens")]
    return repr(rows)


def test_a_token_is_stored_only_as_a_hash(engine, sessions):
    with unit_of_work(sessions) as s:
        token, plaintext = create_token(s, "shop", "inventory:read")
    assert plaintext.startswith(f"sr_{token.public_id}_")
    secret = plaintext.split("_", 2)[2]
    assert len(secret) >= 40
    stored = all_text_in_database(engine)
    assert secret not in stored and plaintext not in stored
    with unit_of_work(sessions) as s:
        assert verify_token(s, plaintext).id == token.id


def test_a_wrong_secret_an_expired_and_a_revoked_token_are_refused(sessions):
    now = utcnow()
    with unit_of_work(sessions) as s:
        live, live_text = create_token(s, "live", "inventory:read", expires_days=1, now=now)
        old, old_text = create_token(s, "old", "inventory:read", expires_days=1,
                                     now=now - dt.timedelta(days=2))
        gone, gone_text = create_token(s, "gone", "inventory:read")
        revoke_token(s, gone.id)
    with unit_of_work(sessions) as s:
        assert verify_token(s, live_text) is not None
        assert verify_token(s, live_text[:-1] + ("A" if live_text[-1] != "A" else "B")) is None
        assert verify_token(s, live_text, now=now + dt.timedelta(days=1, seconds=1)) is None
        assert verify_token(s, old_text) is None
        assert verify_token(s, gone_text) is None
        assert verify_token(s, "sr_nothing_here") is None
        assert verify_token(s, "") is None


def test_unknown_scopes_and_scopes_beyond_the_owners_role_are_refused(sessions):
    with unit_of_work(sessions) as s:
        viewer = create_user(s, "vera", "a-long-password", "viewer")
        with pytest.raises(AccessError) as unknown:
            create_token(s, "x", "inventory:read,launch:missiles")
        assert unknown.value.field == "scopes"
        with pytest.raises(AccessError, match="cannot grant orders:write"):
            create_token(s, "x", "inventory:read,orders:write", created_by=viewer)
        create_token(s, "x", "inventory:read", created_by=viewer)


def test_passwords_are_argon2_hashed_and_checked(sessions):
    with unit_of_work(sessions) as s:
        create_user(s, "pat", "correct horse battery", "planner")
    with unit_of_work(sessions) as s:
        user = s.scalar(select(User).where(User.username == "pat"))
        assert user.password_hash.startswith("$argon2")
        assert "correct horse" not in user.password_hash
        assert authenticate_user(s, "pat", "correct horse battery").id == user.id
        assert authenticate_user(s, "pat", "wrong horse battery") is None
        assert authenticate_user(s, "nobody", "correct horse battery") is None
        user.active = False
    with unit_of_work(sessions) as s:
        assert authenticate_user(s, "pat", "correct horse battery") is None


def test_roles_map_to_scopes_admin_has_all_and_viewer_only_reads():
    assert ROLE_SCOPES["admin"] == frozenset(SCOPES)
    assert all(s.endswith(":read") for s in ROLE_SCOPES["viewer"])
    assert "purchasing:write" in ROLE_SCOPES["planner"]
    assert "purchasing:write" not in ROLE_SCOPES["operator"]
    assert "admin" not in ROLE_SCOPES["planner"] | ROLE_SCOPES["operator"]


def test_cli_creates_a_user_from_stdin_and_refuses_an_unknown_role(app, sessions):
    result = cli(app, ["users", "create", "olga", "--role", "operator", "--password-stdin"],
                 input="s3cret-enough\n")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    with unit_of_work(sessions) as s:
        assert authenticate_user(s, "olga", "s3cret-enough").role == "operator"
    bad = cli(app, ["users", "create", "x", "--role", "king", "--password-stdin"], input="pw\n")
    assert bad.exit_code != 0
    short = cli(app, ["users", "create", "y", "--role", "viewer", "--password-stdin"], input="pw\n")
    assert short.exit_code == 1 and "password" in short.output


def test_cli_prompts_for_the_password_twice(app, sessions):
    result = cli(app, ["users", "create", "pia", "--role", "viewer"],
                 input="prompted-pass\nprompted-pass\n")
    assert result.exit_code == 0, result.output
    with unit_of_work(sessions) as s:
        assert authenticate_user(s, "pia", "prompted-pass") is not None


def test_cli_prints_a_token_once_lists_without_secrets_and_revokes(app, engine, sessions):
    created = cli(app, ["tokens", "create", "--name", "shop", "--scopes",
                        "inventory:read,orders:write", "--expires-days", "30"])
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip().splitlines()[-1]
    assert plaintext.startswith("sr_")
    listed = cli(app, ["tokens", "list"])
    assert listed.exit_code == 0
    secret = plaintext.split("_", 2)[2]
    assert secret not in listed.output and plaintext[:11] in listed.output
    assert '"scopes": ["inventory:read", "orders:write"]' in listed.output
    with unit_of_work(sessions) as s:
        token_id = s.scalar(select(ApiToken.id))
    revoked = cli(app, ["tokens", "revoke", str(token_id)])
    assert revoked.exit_code == 0, revoked.output
    with unit_of_work(sessions) as s:
        assert verify_token(s, plaintext) is None
    assert cli(app, ["tokens", "revoke", "999"]).exit_code == 1
    bad = cli(app, ["tokens", "create", "--name", "x", "--scopes", "bogus:scope"])
    assert bad.exit_code == 1 and "unknown scope" in bad.output
