"""The driver's own SQL for hot paths: lean execution and multi-row INSERTs.

Building, compiling and executing an ORM flush or a Core construct costs far
more CPU than the database spends on a small INSERT. ``insert_rows`` writes
any number of rows of one table in one statement (optionally ``RETURNING``),
with the SQL text built once per (dialect, table, columns, rows, suffix) and
values converted by the columns' own SQLAlchemy bind processors, so SQLite
and PostgreSQL get exactly what the ORM would have sent them.

``fetch`` runs one statement on the connection's DBAPI cursor through
SQLAlchemy's lean path (``Connection._cursor_execute``: events, logging and
error translation, including invalidation on disconnect) without building a
``Result``, which costs more than a small statement's round trip.
"""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Connection, Table

_CACHE: dict[tuple, tuple[str, tuple]] = {}
MAX_ROWS = 200  # per statement; far below any bind-parameter limit


def fetch(conn: Connection, sql: str, params: Sequence[Any] | dict = ()) -> list[tuple]:
    """Execute ``sql`` in ``conn``'s transaction; the rows it returns (if any)."""
    cursor = conn.connection.cursor()
    try:
        conn._cursor_execute(cursor, sql, params)
        return cursor.fetchall() if cursor.description is not None else []
    finally:
        cursor.close()


def fetch_after(conn: Connection, first: str, sql: str,
                params: Sequence[Any] | dict = ()) -> list[tuple]:
    """Run ``first`` (whose result is not wanted, e.g. ``SAVEPOINT``), then
    ``fetch`` ``sql`` (which returns rows): on PostgreSQL both go to the server in one round trip
    (the driver's pipeline mode). Not for the first statement of a
    transaction (the driver's implicit ``BEGIN`` waits for its answer)."""
    if conn.dialect.name != "postgresql":
        fetch(conn, first)
        return fetch(conn, sql, params)
    leading, cursor = conn.connection.cursor(), conn.connection.cursor()
    try:
        with conn.connection.driver_connection.pipeline():
            conn._cursor_execute(leading, first, ())
            conn._cursor_execute(cursor, sql, params)
            return cursor.fetchall()  # (this syncs the pipeline; ``sql`` must return rows)
    finally:
        leading.close()
        cursor.close()


def rowcount(conn: Connection, sql: str, params: Sequence[Any] | dict = ()) -> int:
    """Execute a statement that returns no rows; how many rows it changed."""
    cursor = conn.connection.cursor()
    try:
        conn._cursor_execute(cursor, sql, params)
        return cursor.rowcount
    finally:
        cursor.close()


def _prepared(conn: Connection, table: Table, columns: tuple[str, ...], n: int,
              suffix: str) -> tuple[str, tuple]:
    dialect = conn.dialect
    key = (dialect.name, table.name, columns, n, suffix)
    hit = _CACHE.get(key)
    if hit is None:
        mark = "%s" if dialect.name == "postgresql" else "?"
        row = "(" + ", ".join([mark] * len(columns)) + ")"
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
               f"{', '.join([row] * n)}{(' ' + suffix) if suffix else ''}")
        procs = tuple(table.c[c].type._cached_bind_processor(dialect) for c in columns)
        hit = _CACHE[key] = (sql, procs)
    return hit


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], suffix: str = "") -> list[tuple]:
    """Insert ``rows`` (value tuples in ``columns`` order); return what the
    ``suffix`` (e.g. ``"RETURNING id"``) returns, as tuples."""
    columns = tuple(columns)
    out: list[tuple] = []
    for start in range(0, len(rows), MAX_ROWS):
        chunk = rows[start:start + MAX_ROWS]
        sql, procs = _prepared(conn, table, columns, len(chunk), suffix)
        params: list[Any] = []
        for row in chunk:
            for proc, value in zip(procs, row):
                params.append(proc(value) if proc is not None and value is not None else value)
        out.extend(fetch(conn, sql, tuple(params)))
    return out
