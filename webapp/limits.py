"""Limits the web layer and the command line share (TIGER_STYLE: a limit on everything).

Kept free of Flask and database imports so the command line can use them
without loading the app.
"""

from __future__ import annotations

# Ids, offsets and other integers reaching the database are bounded to a signed
# 64-bit integer (PostgreSQL BIGINT, SQLite INTEGER): beyond it SQLite raises
# OverflowError, so a larger value is refused as bad input before any query.
DB_INT_MAX = 2**63 - 1


def in_db_int_range(value: int) -> bool:
    return -DB_INT_MAX - 1 <= value <= DB_INT_MAX


# Row ids named in paths (``/exceptions/<id>``, ``/scenarios/runs/<id>``) are
# INTEGER primary keys: 32 bits on PostgreSQL, where a larger value bound to
# them fails as "integer out of range". A larger id names no row: 404.
ROW_ID_MAX = 2**31 - 1


# gunicorn kills a worker whose request runs longer than its timeout
# (``gunicorn.conf.py``); an HTTP solve may therefore ask for at most the
# timeout minus this margin, which covers reading the problem, building the
# model, explaining the plan and writing reservations around the solve.
DEFAULT_WORKER_TIMEOUT_S = 60
SOLVE_MARGIN_S = 15
DEFAULT_MAX_SOLVE_S = 30.0

# Request bodies: the largest routing problem the contract allows (20,000 orders)
# is ~6 MB of JSON, so 16 MiB fits it with room; larger bodies are refused with 413.
DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024

# Days the commands take (``demo --today``, ``plan-replenishment --start``): their dates
# run a year or more of history back and a horizon ahead, which overflowed near either
# end of Python's calendar.
FIRST_DAY, LAST_DAY = "1970-01-01", "8999-12-31"
