"""Users, roles and API tokens.

Roles grant scopes; a token carries its own scopes, which the API checks.
A token never grants more than its creator's role (checked when it is made).

| role     | scopes                                                                     |
|----------|----------------------------------------------------------------------------|
| admin    | every scope, including ``admin``                                           |
| planner  | all reads, orders:write, purchasing:write, inventory:write, scenarios:write|
| operator | all reads, orders:write, inventory:write                                   |
| viewer   | all reads                                                                  |

Token format: ``sr_<public id>_<secret>``. The public id (8 hex chars) is
stored in clear to find the row; the secret (43 url-safe chars, 256 bits) is
stored only as its SHA-256 hex digest (a fast hash is enough for a random
256-bit secret; passwords, which are guessable, get argon2). The plaintext is
returned once by ``create_token`` and never stored or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, ForeignKey, Integer, String, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.errors import LedgerError, NotFound
from ledger.models import Base, UtcDateTime, utcnow

TOKEN_PREFIX = "sr_"
PUBLIC_ID_BYTES = 4          # 8 hex characters, for lookup only
SECRET_BYTES = 32            # 256 bits of randomness
MAX_TOKEN_DAYS = 3650
MAX_TOKEN_CHARS = 128        # anything longer is not one of ours: refuse before hashing
MAX_PASSWORD_CHARS = 1024
MIN_PASSWORD_CHARS = 8
TOUCH_EVERY = dt.timedelta(seconds=60)
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

READ_SCOPES = ("inventory:read", "orders:read", "purchasing:read", "exceptions:read",
               "scenarios:read")
WRITE_SCOPES = ("inventory:write", "orders:write", "purchasing:write", "exceptions:write",
                "scenarios:write")
SCOPES = READ_SCOPES + WRITE_SCOPES + ("admin",)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "planner": frozenset(READ_SCOPES + ("orders:write", "purchasing:write", "inventory:write",
                                        "exceptions:write", "scenarios:write")),
    "operator": frozenset(READ_SCOPES + ("orders:write", "inventory:write",
                                         "exceptions:write")),
    "viewer": frozenset(READ_SCOPES),
}
ROLES = tuple(ROLE_SCOPES)

_hasher = PasswordHasher()
# Verifying against this keeps "no such user" as slow as "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccessError(LedgerError):
    code = "invalid_access_request"
    status = 422


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES.get(self.role, frozenset()) if self.active else frozenset()


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(512))  # space-separated, sorted
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                          nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                          nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                            nullable=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def prefix(self) -> str:
        """What may be shown and logged: identifies the token, grants nothing."""
        return f"{TOKEN_PREFIX}{self.public_id}"

    def view(self, now: dt.datetime | None = None) -> dict:
        now = now or utcnow()
        return {"id": self.id, "name": self.name, "prefix": self.prefix,
                "scopes": sorted(self.scope_set), "created_by": self.created_by,
                "created_at": _iso(self.created_at), "expires_at": _iso(self.expires_at),
                "revoked_at": _iso(self.revoked_at), "last_used_at": _iso(self.last_used_at),
                "usable": _usable(self, now)}


def _iso(value: dt.datetime | None) -> str | None:
    return _aware(value).isoformat() if value else None


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite gives back naive datetimes; every stored instant is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _usable(token: ApiToken, now: dt.datetime) -> bool:
    if token.revoked_at is not None:
        return False
    return token.expires_at is None or _aware(token.expires_at) > now


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --------------------------------------------------------------------------- users

def create_user(session: Session, username: str, password: str, role: str) -> User:
    if not USERNAME_RE.match(username or ""):
        raise AccessError("username must be 1-64 letters, digits or _ . @ -", field="username")
    if role not in ROLE_SCOPES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}", field="role")
    if not (MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS):
        raise AccessError(f"password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} "
                          "characters", field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccessError(f"user {username!r} already exists", field="username")
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def authenticate_user(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None (same work either way)."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password[:MAX_PASSWORD_CHARS])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


# --------------------------------------------------------------------------- tokens

def parse_scopes(text: str | list[str] | tuple[str, ...]) -> frozenset[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    scopes = frozenset(s.strip() for s in items if s.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise AccessError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}",
                          field="scopes")
    if not scopes:
        raise AccessError("at least one scope is required", field="scopes")
    return scopes


def create_token(session: Session, name: str, scopes, *, expires_days: int | None = None,
                 created_by: User | None = None,
                 now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token row and its plaintext, which is returned here once and never again."""
    now = now or utcnow()
    name = (name or "").strip()
    if not 1 <= len(name) <= 128:
        raise AccessError("name must be 1-128 characters", field="name")
    wanted = parse_scopes(scopes)
    if created_by is not None and not wanted <= created_by.scopes:
        raise AccessError(f"role {created_by.role} cannot grant "
                          f"{', '.join(sorted(wanted - created_by.scopes))}", field="scopes")
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise AccessError(f"expires_days must be 1-{MAX_TOKEN_DAYS}", field="expires_days")
    public_id = secrets.token_hex(PUBLIC_ID_BYTES)
    while session.scalar(select(ApiToken.id).where(ApiToken.public_id == public_id)):
        public_id = secrets.token_hex(PUBLIC_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken(name=name, public_id=public_id, secret_hash=_digest(secret),
                     scopes=" ".join(sorted(wanted)),
                     created_by=created_by.id if created_by is not None else None,
                     created_at=now,
                     expires_at=now + dt.timedelta(days=expires_days) if expires_days else None)
    session.add(token)
    session.flush()
    return token, f"{TOKEN_PREFIX}{public_id}_{secret}"


def verify_token(session: Session, plaintext: str, *, now: dt.datetime | None = None,
                 touch: bool = True) -> ApiToken | None:
    """The usable token for this plaintext, or None (unknown, wrong, expired, revoked)."""
    if not plaintext or len(plaintext) > MAX_TOKEN_CHARS or not plaintext.startswith(TOKEN_PREFIX):
        return None
    public_id, sep, secret = plaintext[len(TOKEN_PREFIX):].partition("_")
    if not sep or not public_id or not secret:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.public_id == public_id))
    if token is None:
        _digest(secret)  # the same work as a real check
        return None
    if not hmac.compare_digest(_digest(secret), token.secret_hash):
        return None
    now = now or utcnow()
    if not _usable(token, now):
        return None
    if touch and needs_touch(token, now):
        token.last_used_at = now
    return token


def needs_touch(token: ApiToken, now: dt.datetime | None = None) -> bool:
    """last_used_at is kept to the minute: a write per request would serialise reads."""
    now = now or utcnow()
    return token.last_used_at is None or now - _aware(token.last_used_at) > TOUCH_EVERY


def touch_token(session: Session, token_id: int, now: dt.datetime | None = None) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id)
                    .values(last_used_at=now or utcnow()))


# Called with a token id when it is revoked in this process (and again when
# that transaction commits): caches of verified tokens forget it at once.
# Other processes learn of a revocation when their cache entries expire.
revocation_listeners: list[Callable[[int], None]] = []


def _announce_revocation(session: Session, token_id: int) -> None:
    def tell(*_args) -> None:
        for listener in list(revocation_listeners):
            listener(token_id)

    tell()
    event.listen(session, "after_commit", tell, once=True)


def revoke_token(session: Session, token_id: int, *, now: dt.datetime | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}", field="id")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    _announce_revocation(session, token.id)
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
