"""Posting movements: the one write path of the ledger.

A posting is a list of movements applied atomically in the caller's
transaction. The arithmetic is done by pure functions (``position_deltas``);
this module turns it into conditional statements:

* touched positions are written in one canonical order, (sku_id, node_id), so
  two postings never wait on each other in opposite orders (no deadlocks);
* a position whose buckets decrease is changed by ``UPDATE … WHERE bucket +
  delta >= 0`` — the database decides, under its row lock, whether the stock
  is there; every shortfall of the posting is gathered and reported in one
  ``InsufficientStock`` and the caller's transaction is rolled back;
* a position that only gains is upserted;
* transfers also change their route's units in transit (``in_transit``), after
  the positions and in (sku_id, from_node_id, to_node_id) order, with the same
  conditional UPDATE: a receipt names its route and takes only what was sent
  (``NotInTransit`` otherwise);
* the CHECK constraints on ``stock_positions`` and ``movements`` stay as the
  last line of defence;
* movements are stamped (``created_at``) *after* the posting's row locks are
  held, never before: one stamp per database transaction (see
  ``_transaction_stamp``), so that per position the journal's time order is the
  order in which postings were applied and every balance "as of" an instant is
  one that existed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
import weakref
from collections import ChainMap
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Connection, Engine, and_, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.errors import (
    IdempotencyConflict, IdempotencyInProgress, InsufficientStock, InvalidMovement, NotInTransit,
    UnknownNode, UnknownSku,
)
from ledger.models import (
    IdempotencyRecord, InTransit, MovementRow, Node, Sku, StockPosition, utcnow,
)
from ledger.movements import (
    BUCKETS, MAX_MOVEMENTS_PER_POSTING, Movement, position_deltas, transit_deltas,
)
from ledger.rawsql import fetch, rowcount

_positions = StockPosition.__table__
_movements = MovementRow.__table__
_idem = IdempotencyRecord.__table__
_transit = InTransit.__table__


@dataclass(frozen=True)
class PostingResult:
    txn_id: str
    movement_ids: tuple[int, ...]
    replayed: bool = False

    def to_dict(self) -> dict:
        return {"txn_id": self.txn_id, "movement_ids": list(self.movement_ids)}


class CodeCache:
    """Maps SKU and node codes to ids, per engine.

    Ids never change once a row is committed, so committed mappings are kept
    for the life of the process. A mapping read inside a transaction is held
    apart until that transaction commits: if the transaction created the row
    and then rolls back, the id it saw never existed, and must not be reused.
    """

    _per_engine: "weakref.WeakKeyDictionary[Engine, CodeCache]" = weakref.WeakKeyDictionary()
    PRELOAD_MAX = 200_000  # load a whole code table at once while it is this small
    _PENDING = "stockroute.code_cache.pending"

    def __init__(self) -> None:
        self._skus: dict[str, int] = {}
        self._nodes: dict[str, int] = {}

    @classmethod
    def for_connection(cls, conn: Connection) -> "CodeCache":
        engine = conn.engine
        cache = cls._per_engine.get(engine)
        if cache is None:
            cache = cls._per_engine[engine] = cls()
            event.listen(engine, "commit", cache._on_commit)
            event.listen(engine, "rollback", cache._on_rollback)
        return cache

    def _on_commit(self, conn: Connection) -> None:
        pending = conn.info.pop(self._PENDING, None)
        if pending:
            self._skus.update(pending[0])
            self._nodes.update(pending[1])

    def _on_rollback(self, conn: Connection) -> None:
        conn.info.pop(self._PENDING, None)

    def view(self, conn: Connection) -> tuple[ChainMap, ChainMap]:
        """(sku code -> id, node code -> id) as this transaction sees them."""
        pending = conn.info.setdefault(self._PENDING, ({}, {}))
        return ChainMap(pending[0], self._skus), ChainMap(pending[1], self._nodes)

    def resolve(self, conn: Connection, skus: set[str],
                nodes: set[str]) -> tuple[ChainMap, ChainMap]:
        known_skus, known_nodes = self.view(conn)
        for table, codes, known, error, field in (
            (Sku.__table__, skus, known_skus, UnknownSku, "sku"),
            (Node.__table__, nodes, known_nodes, UnknownNode, "node"),
        ):
            missing = codes - known.keys()
            if missing:
                query = select(table.c.code, table.c.id)
                if len(missing) < 50 and len(known):
                    query = query.where(table.c.code.in_(sorted(missing)))
                else:
                    query = query.limit(self.PRELOAD_MAX)
                known.maps[0].update({code: id_ for code, id_ in conn.execute(query)})
                still = sorted(missing - known.keys())
                if still:
                    raise error(f"unknown {field} code(s): {', '.join(still)}", field=field)
        return known_skus, known_nodes


class _StampEvents:
    """The journal stamp of the current database transaction, per connection.

    A posting stamps its movements after its conditional UPDATEs, which hold
    the positions' row locks until the transaction ends, so a posting that
    waited for another's lock is always stamped later than it. The first
    posting of a transaction fixes the stamp; later postings of the same
    transaction (a reoptimisation releases and re-reserves in several
    ``post`` calls) reuse it, so an "as of" instant sees all of the
    transaction or none of it. Reuse is safe only while no other transaction
    has stamped a later movement at a position the later posting touches (it
    could have, at a position this transaction had not locked yet): that is
    checked (``_stamp_still_latest``) and, if it fails, the transaction moves
    on to a fresh stamp, still taken under every lock it holds.

    Cleared when a transaction begins, commits or rolls back, and when a
    savepoint that was opened before the stamp was fixed rolls back (its
    movements, and on PostgreSQL the row locks taken in it, are gone).
    """

    _engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()
    _KEY = "stockroute.txn_stamp"
    _SAVEPOINTS = "stockroute.txn_stamp.savepoints"

    _lock = threading.Lock()

    @classmethod
    def for_connection(cls, conn: Connection) -> "type[_StampEvents]":
        if conn.engine not in cls._engines:
            install_stamp_events(conn.engine)
        return cls

    @classmethod
    def install(cls, engine: Engine) -> None:
        with cls._lock:
            if engine in cls._engines:
                return
            cls._engines.add(engine)
            for name in ("begin", "commit", "rollback"):
                event.listen(engine, name, cls._clear)
            event.listen(engine, "savepoint", cls._savepoint)
            event.listen(engine, "release_savepoint", cls._release_savepoint)
            event.listen(engine, "rollback_savepoint", cls._rollback_savepoint)

    @classmethod
    def _clear(cls, conn: Connection) -> None:
        conn.info.pop(cls._KEY, None)
        conn.info.pop(cls._SAVEPOINTS, None)

    # Savepoints nest (SQLAlchemy releases or rolls back the innermost one), and
    # the ``savepoint`` event does not know the name yet: a stack of "was the
    # stamp fixed when it was opened".
    @classmethod
    def _savepoint(cls, conn: Connection, name) -> None:
        conn.info.setdefault(cls._SAVEPOINTS, []).append(cls._KEY in conn.info)

    @classmethod
    def _release_savepoint(cls, conn: Connection, name, context) -> None:
        stack = conn.info.get(cls._SAVEPOINTS)
        if stack:
            stack.pop()

    @classmethod
    def _rollback_savepoint(cls, conn: Connection, name, context) -> None:
        stack = conn.info.get(cls._SAVEPOINTS)
        had_stamp = stack.pop() if stack else False
        if not had_stamp:  # the stamp was fixed inside the rolled-back savepoint
            conn.info.pop(cls._KEY, None)

    @classmethod
    def current(cls, conn: Connection) -> dt.datetime | None:
        return conn.info.get(cls._KEY)

    @classmethod
    def remember(cls, conn: Connection, when: dt.datetime) -> None:
        conn.info[cls._KEY] = when


def install_stamp_events(engine: Engine) -> None:
    """Listen for the transaction events the journal stamp needs. ``make_engine``
    calls it before the engine is shared between threads (adding listeners while
    another thread dispatches events is not safe); other engines get it on their
    first posting."""
    _StampEvents.install(engine)


def _stamp_still_latest(conn: Connection, skus, nodes, movements: Sequence[Movement],
                        stamp: dt.datetime) -> bool:
    """Whether ``stamp`` (fixed by an earlier posting of this transaction) is still
    at least the stamp of every movement at the positions ``movements`` touch.
    Called under those positions' row locks, so what it reads cannot change
    before the transaction ends. SQLite's write lock covers the whole
    transaction: always true there."""
    if conn.dialect.name != "postgresql":
        return True
    touched = {(skus[sku], nodes[node]) for (sku, node) in position_deltas(movements)}
    later = conn.execute(
        select(_movements.c.sku_id, _movements.c.from_node_id, _movements.c.to_node_id)
        .where(_movements.c.created_at > stamp,
               _movements.c.sku_id.in_(sorted({s for s, _ in touched}))))
    return not any((sku_id, a) in touched or (sku_id, b) in touched for sku_id, a, b in later)


def request_hash(payload) -> str:
    blob = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _movement_payload(movements: Sequence[Movement]) -> list[dict]:
    # source_node only when set, so requests stored before it existed hash as they did
    return [
        {"kind": m.kind, "sku": m.sku, "qty": m.qty, "node": m.node, "to_node": m.to_node,
         "doc_type": m.doc_type, "doc_id": m.doc_id, "note": m.note,
         **({"source_node": m.source_node} if m.source_node else {})}
        for m in movements
    ]


def claim_idempotency_key(conn: Connection, key: str, scope: str, digest: str) -> dict | None:
    """Insert the key in its scope, or return the stored response of its first use.

    A key is unique per scope (the operation: ``posting``, ``orders``, …), so
    clients of different operations never collide on a key they both chose.
    ``INSERT … ON CONFLICT DO NOTHING`` waits for a concurrent transaction that
    inserted the same key and then sees its row, so exactly one caller wins.
    Returns None when this caller holds the key.
    """
    dialect = conn.dialect.name
    # RETURNING, not rowcount: some driver/dialect pairs report -1 for INSERTs.
    if dialect == "postgresql":  # the hot path (every keyed request): the driver's SQL
        claimed = fetch(
            conn,
            "INSERT INTO idempotency_keys (key, scope, request_hash, status, created_at)"
            " VALUES (%s, %s, %s, 'pending', %s) ON CONFLICT (scope, key) DO NOTHING RETURNING key",
            (key, scope, digest, utcnow())) or None
    else:
        stmt = sqlite.insert(_idem).values(
            key=key, scope=scope, request_hash=digest, status="pending",
            created_at=utcnow()).on_conflict_do_nothing(index_elements=["scope", "key"])
        claimed = conn.execute(stmt.returning(_idem.c.key)).first()
    if claimed is not None:
        return None
    row = conn.execute(select(_idem.c.request_hash, _idem.c.response)
                       .where(_idem.c.scope == scope, _idem.c.key == key)).one()
    if row.request_hash != digest:
        raise IdempotencyConflict(key)
    if row.response is None:
        raise IdempotencyInProgress(key)
    return row.response


def store_idempotent_response(conn: Connection, key: str, scope: str, response: dict) -> None:
    conn.execute(update(_idem).where(_idem.c.scope == scope, _idem.c.key == key)
                 .values(status="done", response=response))


def post(
    session: Session | Connection,
    movements: Sequence[Movement],
    *,
    idempotency_key: str | None = None,
    idempotency_scope: str = "posting",
    actor: str | None = None,
    at: dt.datetime | None = None,
) -> PostingResult:
    """Apply ``movements`` atomically inside the caller's transaction.

    With an ``idempotency_key``, a repeat of the same request returns the first
    result and applies nothing; the same key with other movements raises
    ``IdempotencyConflict``. Keys are unique within ``idempotency_scope``. The caller commits (see ``ledger.db.unit_of_work``).
    """
    if not movements:
        raise InvalidMovement("a posting needs at least one movement", field="movements")
    if len(movements) > MAX_MOVEMENTS_PER_POSTING:
        raise InvalidMovement(f"at most {MAX_MOVEMENTS_PER_POSTING} movements per posting",
                              field="movements")
    conn = session.connection() if isinstance(session, Session) else session
    if idempotency_key is not None:
        if not idempotency_key or len(idempotency_key) > 255:
            raise InvalidMovement("idempotency key must be 1-255 characters",
                                  field="idempotency_key")
        first = claim_idempotency_key(conn, idempotency_key, idempotency_scope,
                                      request_hash(_movement_payload(movements)))
        if first is not None:
            return PostingResult(first["txn_id"], tuple(first["movement_ids"]), replayed=True)

    skus, nodes = CodeCache.for_connection(conn).resolve(
        conn, {m.sku for m in movements},
        {m.node for m in movements} | {m.to_node for m in movements if m.to_node}
        | {m.source_node for m in movements if m.source_node})
    txn_id = str(uuid.uuid4())
    fixed = at.astimezone(dt.timezone.utc) if at is not None else None
    stamps = _StampEvents.for_connection(conn)
    earlier = stamps.current(conn) if fixed is None else None
    if earlier is None and fixed is None and _fusable(conn, movements):
        ids, when = _post_one_fused(conn, skus, nodes, movements[0], txn_id, actor)
    else:
        ids, when = _post_general(conn, skus, nodes, movements, txn_id, actor,
                                  fixed=fixed, earlier=earlier)
    _check_inbound_keeps_transit(conn, skus, nodes, movements)
    if fixed is None:
        stamps.remember(conn, when)
    result = PostingResult(txn_id, ids)
    if idempotency_key is not None:
        store_idempotent_response(conn, idempotency_key, idempotency_scope, result.to_dict())
    return result


def _check_inbound_keeps_transit(conn, skus, nodes, movements) -> None:
    """A node's ``inbound`` holds purchase-order units and units in transit to it by
    transfer (``in_transit``, per route). Only a ``transfer_in`` naming its route may
    take the latter, so any other movement out of ``inbound`` (a receipt or
    cancellation of purchase-order units) must leave at least the units in transit.
    Checked after the posting's updates, which hold the positions' row locks: a
    transfer to the same position waits for them, so the sum read here is current.
    Raises ``InsufficientStock`` (the caller rolls the posting back)."""
    taken: dict[tuple[str, str], int] = {}
    for m in movements:
        if m.from_bucket == "inbound" and m.source_node is None:
            taken[(m.sku, m.node)] = taken.get((m.sku, m.node), 0) + m.qty
    if not taken:
        return
    shortages = []
    for (sku, node), qty in sorted(taken.items()):
        sku_id, node_id = skus[sku], nodes[node]
        inbound = conn.execute(select(_positions.c.inbound).where(and_(
            _positions.c.sku_id == sku_id, _positions.c.node_id == node_id))).scalar() or 0
        in_transit = conn.execute(select(func.coalesce(func.sum(_transit.c.qty), 0)).where(
            and_(_transit.c.sku_id == sku_id, _transit.c.to_node_id == node_id))).scalar()
        if inbound < in_transit:
            shortages.append({"sku": sku, "node": node, "bucket": "inbound",
                              "have": max(0, inbound + qty - in_transit), "need": qty,
                              "in_transit": int(in_transit)})
    if shortages:
        raise InsufficientStock(shortages)


def _post_general(conn, skus, nodes, movements, txn_id, actor, *, fixed, earlier
                  ) -> tuple[tuple[int, ...], dt.datetime | None]:
    """Apply the deltas (taking the row locks), then choose the stamp and write the
    journal rows; (movement ids, the stamp they carry)."""
    _apply_deltas(conn, skus, nodes, movements)
    if fixed is not None:
        when = fixed
    elif earlier is not None and _stamp_still_latest(conn, skus, nodes, movements, earlier):
        when = earlier
    elif conn.dialect.name == "postgresql":
        when = None  # the database's clock, read by the INSERT below (after the locks)
    else:
        # SQLite: BEGIN IMMEDIATE holds the database's write lock for the whole
        # transaction, so any instant inside it is after every earlier writer.
        when = utcnow()
    rows = [
        {
            "txn_id": txn_id, "kind": m.kind, "sku_id": skus[m.sku], "qty": m.qty,
            "from_node_id": nodes[m.node] if m.from_node else None,
            "from_bucket": m.from_bucket,
            "to_node_id": nodes[m.to_node] if m.dest_node else None,
            "to_bucket": m.to_bucket, "doc_type": m.doc_type, "doc_id": m.doc_id,
            "actor": actor, "note": m.note, "created_at": when,
            "source_node_id": nodes[m.source_node] if m.source_node else None,
        }
        for m in movements
    ]
    return _insert_movements(conn, rows, when)


def _fusable(conn: Connection, movements: Sequence[Movement]) -> bool:
    """One movement out of a bucket, staying at one node (reserve, ship, release,
    count loss, …): on PostgreSQL its balance change and journal row go to the
    server as one statement, one round trip instead of two."""
    if conn.dialect.name != "postgresql" or len(movements) != 1:
        return False
    m = movements[0]
    return (m.from_bucket in BUCKETS and (m.to_bucket not in BUCKETS or m.to_node == m.node)
            and m.source_node is None)  # a transfer in also changes its route's in-transit


_FUSED_TYPES = {"sku_id": "integer", "qty": "bigint", "from_node_id": "integer",
                "to_node_id": "integer", "created_at": "timestamptz",
                "source_node_id": "integer"}


def _post_one_fused(conn, skus, nodes, m: Movement, txn_id, actor
                    ) -> tuple[tuple[int, ...], dt.datetime]:
    """The first posting of a transaction, one movement, PostgreSQL: the stamp is
    ``clock_timestamp()`` evaluated in the INSERT's SELECT over ``upd``, that is
    after the UPDATE has waited for and taken the row lock (``now()`` or
    ``statement_timestamp()`` would be the instant the statement arrived,
    before the wait)."""
    to_bucket = m.to_bucket if m.to_bucket in BUCKETS else None
    shape = ("fused", m.from_bucket, to_bucket)
    sql = _SQL_CACHE.get(shape)
    if sql is None:
        sets = f"{m.from_bucket} = {m.from_bucket} - %(qty)s::bigint"
        if to_bucket:
            sets += f", {to_bucket} = {to_bucket} + %(qty)s::bigint"
        values = ", ".join("clock_timestamp()" if c == "created_at"
                           else f"%({c})s::{_FUSED_TYPES.get(c, 'text')}"
                           for c in _MOVEMENT_COLUMNS)
        sql = _SQL_CACHE[shape] = (
            f"WITH upd AS (UPDATE stock_positions SET {sets}"
            f" WHERE sku_id = %(sku_id)s::integer AND node_id = %(from_node_id)s::integer"
            f" AND {m.from_bucket} - %(qty)s::bigint >= 0 RETURNING 1)"
            f" INSERT INTO movements ({', '.join(_MOVEMENT_COLUMNS)}) SELECT {values}"
            f" FROM upd RETURNING id, created_at")
    sku_id, node_id = skus[m.sku], nodes[m.node]
    params = {"txn_id": txn_id, "kind": m.kind, "sku_id": sku_id, "qty": m.qty,
              "from_node_id": node_id, "from_bucket": m.from_bucket,
              "to_node_id": node_id if to_bucket else None, "to_bucket": m.to_bucket,
              "doc_type": m.doc_type, "doc_id": m.doc_id, "actor": actor, "note": m.note,
              "source_node_id": None}
    rows = fetch(conn, sql, params)
    if not rows:
        changes = {m.from_bucket: -m.qty, **({to_bucket: m.qty} if to_bucket else {})}
        raise InsufficientStock(_describe_shortage(conn, sku_id, node_id, m.sku, m.node,
                                                   changes))
    return tuple(r[0] for r in rows), rows[0][1]


# The hot path speaks the driver's SQL directly: these statements run for every
# reservation, and building and compiling SQLAlchemy constructs for them costs
# more CPU than the database spends executing them. The strings are built once
# per (dialect, shape) and cached.
_SQL_CACHE: dict[tuple, str] = {}
_MOVEMENT_COLUMNS = ("txn_id", "kind", "sku_id", "qty", "from_node_id", "from_bucket",
                     "to_node_id", "to_bucket", "doc_type", "doc_id", "actor", "note",
                     "created_at", "source_node_id")


def _ph(dialect: str, name: str) -> str:
    return f"%({name})s" if dialect == "postgresql" else f":{name}"


def _update_sql(dialect: str, changes: dict[str, int]) -> str:
    shape = ("update", dialect, tuple((b, d < 0) for b, d in changes.items()))
    sql = _SQL_CACHE.get(shape)
    if sql is None:
        sets = ", ".join(f"{b} = {b} + {_ph(dialect, 'd_' + b)}" for b in changes)
        guards = "".join(f" AND {b} + {_ph(dialect, 'd_' + b)} >= 0"
                         for b, d in changes.items() if d < 0)
        sql = _SQL_CACHE[shape] = (
            f"UPDATE stock_positions SET {sets} WHERE sku_id = {_ph(dialect, 'sku_id')}"
            f" AND node_id = {_ph(dialect, 'node_id')}{guards}")
    return sql


def _upsert_sql(dialect: str, buckets: tuple[str, ...]) -> str:
    shape = ("upsert", dialect, buckets)
    sql = _SQL_CACHE.get(shape)
    if sql is None:
        cols = ", ".join(BUCKETS)
        values = ", ".join(_ph(dialect, "v_" + b) for b in BUCKETS)
        sets = ", ".join(f"{b} = stock_positions.{b} + excluded.{b}" for b in buckets)
        sql = _SQL_CACHE[shape] = (
            f"INSERT INTO stock_positions (sku_id, node_id, {cols}) VALUES "
            f"({_ph(dialect, 'sku_id')}, {_ph(dialect, 'node_id')}, {values}) "
            f"ON CONFLICT (sku_id, node_id) DO UPDATE SET {sets}")
    return sql


def _insert_movements_sql(dialect: str, n: int, server_stamp: bool) -> str:
    """A multi-row INSERT; with ``server_stamp`` (PostgreSQL) every row's
    ``created_at`` is ``statement_timestamp()``: one value for the whole
    statement, read by the server when the statement arrives, i.e. after the
    posting's UPDATEs (sent and answered before it) hold their row locks."""
    shape = ("movements", dialect, n, server_stamp)
    sql = _SQL_CACHE.get(shape)
    if sql is None:
        cols = ", ".join(_MOVEMENT_COLUMNS)
        rows = ", ".join(
            "(" + ", ".join("statement_timestamp()" if server_stamp and c == "created_at"
                            else _ph(dialect, f"{c}_{i}") for c in _MOVEMENT_COLUMNS) + ")"
            for i in range(n))
        sql = _SQL_CACHE[shape] = (f"INSERT INTO movements ({cols}) VALUES {rows}"
                                   f" RETURNING id, created_at")
    return sql


def _insert_movements(conn: Connection, rows: list[dict], when: dt.datetime | None
                      ) -> tuple[tuple[int, ...], dt.datetime]:
    """Insert the journal rows, all stamped ``when`` (None: the database's clock,
    read once and then passed on to the following chunks)."""
    dialect = conn.dialect.name
    to_db = _movements.c.created_at.type._cached_bind_processor(conn.dialect)
    ids: list[int] = []
    for start in range(0, len(rows), 200):  # stay far below any bind-parameter limit
        chunk = rows[start:start + 200]
        server_stamp = when is None
        params = {}
        for i, row in enumerate(chunk):
            for c in _MOVEMENT_COLUMNS:
                if c == "created_at":
                    if not server_stamp:
                        params[f"{c}_{i}"] = to_db(when) if to_db else when
                else:
                    params[f"{c}_{i}"] = row[c]
        returned = fetch(conn, _insert_movements_sql(dialect, len(chunk), server_stamp), params)
        if server_stamp:
            when = returned[0][1]
        ids.extend(sorted(r[0] for r in returned))
    return tuple(ids), when


def lock_positions(session: Session | Connection, sku_ids: list[int]) -> None:
    """Lock every position of these SKUs, in canonical order, until the transaction ends.

    For decisions that read stock and then write it (routing an order): on
    PostgreSQL ``SELECT … ORDER BY … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``
    already holds the database's write lock.
    """
    conn = session.connection() if isinstance(session, Session) else session
    if conn.dialect.name != "postgresql" or not sku_ids:
        return
    conn.execute(select(_positions.c.sku_id).where(_positions.c.sku_id.in_(sorted(sku_ids)))
                 .order_by(_positions.c.sku_id, _positions.c.node_id).with_for_update())


def _apply_deltas(conn: Connection, skus: ChainMap, nodes: ChainMap,
                  movements: Sequence[Movement]) -> None:
    dialect = conn.dialect.name
    keyed = sorted(
        ((skus[sku], nodes[node]), (sku, node), delta)
        for (sku, node), delta in position_deltas(movements).items()
    )
    shortages: list[dict] = []
    for (sku_id, node_id), (sku, node), delta in keyed:
        changes = {b: d for b, d in delta.items() if d}
        if not changes:
            continue
        if all(d > 0 for d in changes.values()):
            values = {f"v_{b}": changes.get(b, 0) for b in BUCKETS}
            rowcount(conn, _upsert_sql(dialect, tuple(changes)),
                     {"sku_id": sku_id, "node_id": node_id, **values})
            continue
        params = {"sku_id": sku_id, "node_id": node_id,
                  **{f"d_{b}": d for b, d in changes.items()}}
        if rowcount(conn, _update_sql(dialect, changes), params) != 1:
            shortages.extend(_describe_shortage(conn, sku_id, node_id, sku, node, changes))
    not_sent = _apply_transit(conn, skus, nodes, movements)
    if not_sent:  # the more precise answer: inbound may hold other units, not these
        raise NotInTransit(not_sent)
    if shortages:
        raise InsufficientStock(shortages)


def _apply_transit(conn: Connection, skus: ChainMap, nodes: ChainMap,
                   movements: Sequence[Movement]) -> list[dict]:
    """Change units in transit per route; return what receipts asked for beyond it."""
    keyed = sorted(((skus[sku], nodes[a], nodes[b]), (sku, a, b), d)
                   for (sku, a, b), d in transit_deltas(movements).items())
    shortfalls: list[dict] = []
    for (sku_id, from_id, to_id), (sku, a, b), delta in keyed:
        route = {"sku_id": sku_id, "from_node_id": from_id, "to_node_id": to_id}
        if delta > 0:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(_transit).values(**route, qty=delta)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=list(route), set_={"qty": _transit.c.qty + stmt.excluded.qty}))
            continue
        where = and_(*(_transit.c[c] == v for c, v in route.items()))
        done = conn.execute(update(_transit).where(where, _transit.c.qty + delta >= 0)
                            .values(qty=_transit.c.qty + delta))
        if done.rowcount != 1:
            have = conn.scalar(select(_transit.c.qty).where(where)) or 0
            shortfalls.append({"sku": sku, "from_node": a, "to_node": b, "have": int(have),
                               "need": -delta})
    return shortfalls


def _describe_shortage(conn, sku_id, node_id, sku, node, changes) -> list[dict]:
    row = conn.execute(select(*[getattr(_positions.c, b) for b in BUCKETS]).where(
        and_(_positions.c.sku_id == sku_id, _positions.c.node_id == node_id))).first()
    have = dict(zip(BUCKETS, row)) if row else dict.fromkeys(BUCKETS, 0)
    return [
        {"sku": sku, "node": node, "bucket": b, "have": have[b], "need": -d}
        for b, d in changes.items() if d < 0 and have[b] + d < 0
    ]
