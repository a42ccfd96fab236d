"""Paging by id (``before_id``) for the list services."""

from __future__ import annotations

from sqlalchemy import BigInteger, literal


def older_than(id_column, before_id: int):
    """``id_column < before_id`` for any 64-bit ``before_id``.

    The value is bound as BIGINT: bound with an INTEGER column's own type,
    PostgreSQL refuses a value past 32 bits ("integer out of range") although
    it simply means "every row"; ``integer < bigint`` is an indexed comparison.
    """
    return id_column < literal(before_id, BigInteger())
