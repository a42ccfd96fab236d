"""CSV import and export of master data and stock counts.

Every row is validated (pydantic) and every reference checked before anything
is written; all errors are reported together, each with the row number a
spreadsheet shows (the header is row 1) and the column. A file with any error
changes nothing. Export writes the same columns, so export → import
round-trips.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import IO, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import master, queries
from ledger.errors import ImportErrors
from ledger.models import (
    Channel, Lane, Node, Sku, StockPosition, Supplier, SupplierItem,
)
from ledger.movements import Movement
from ledger.posting import post

MAX_ROWS = 1_000_000
MAX_BYTES = 256 * 2**20
MAX_ERRORS = 1_000  # a file that bad is reported in part; nothing is written either way
MAX_INT = 2**31 - 1  # the INTEGER columns' range on PostgreSQL
Code = Field(min_length=1, max_length=128)


def _money(**kw):
    """A Numeric(14, 4) column: a finite, non-negative amount with at most 4 decimals."""
    return Field(ge=0, max_digits=14, decimal_places=4, **kw)


def _count(**kw):
    return Field(ge=0, le=MAX_INT, **kw)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        # PostgreSQL cannot store NUL in text (the import failed with a traceback there)
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("must not contain a NUL character")
        return value


class SkuRow(_Row):
    code: str = Code
    name: str = Field(min_length=1, max_length=256)
    category: str = Field(default="general", max_length=128)
    unit_cost: Decimal = _money(default=Decimal(0))
    price: Decimal = _money(default=Decimal(0))
    weight_kg: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=4)
    volume_l: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=4)
    case_pack: int = Field(default=1, ge=1, le=MAX_INT)
    active: bool = True


class NodeRow(_Row):
    code: str = Code
    name: str = Field(min_length=1, max_length=256)
    kind: Literal["warehouse", "3pl", "store", "dropship"] = "warehouse"
    region: str = Field(min_length=1, max_length=64)
    capacity_units_per_day: int | None = _count(default=None)
    capacity_orders_per_day: int | None = _count(default=None)
    receiving_capacity_per_day: int | None = _count(default=None)
    handling_cost_per_order: Decimal = _money(default=Decimal(0))
    handling_cost_per_unit: Decimal = _money(default=Decimal(0))
    active: bool = True


class LaneRow(_Row):
    node: str = Code
    region: str = Field(min_length=1, max_length=64)
    service: str = Field(default="standard", min_length=1, max_length=32)
    cost_per_shipment: Decimal = _money(default=Decimal(0))
    cost_per_unit: Decimal = _money(default=Decimal(0))
    transit_days: int = Field(ge=0, le=365)


class ChannelRow(_Row):
    code: str = Code
    name: str = Field(default="", max_length=256)
    backorder_penalty_per_unit: Decimal | None = _money(default=None)
    # ";"-separated in the file; empty = every node may serve the channel.
    nodes: list[str] = Field(default_factory=list, max_length=1_000)


class SupplierRow(_Row):
    code: str = Code
    name: str = Field(default="", max_length=256)
    lead_time_days: int = Field(ge=0, le=730)
    lead_time_std_days: Decimal = Field(default=Decimal(0), ge=0, max_digits=8,
                                        decimal_places=2)
    capacity_units_per_period: int | None = _count(default=None)
    fixed_order_cost: Decimal = _money(default=Decimal(0))


class SupplierItemRow(_Row):
    supplier: str = Code
    sku: str = Code
    unit_cost: Decimal = _money()
    moq: int = _count(default=0)


class StockRow(_Row):
    sku: str = Code
    node: str = Code
    available: int = Field(ge=0, le=10**12)


KINDS: dict[str, tuple[type[_Row], tuple[str, ...]]] = {
    "skus": (SkuRow, ("code",)),
    "nodes": (NodeRow, ("code",)),
    "lanes": (LaneRow, ("node", "region", "service")),
    "channels": (ChannelRow, ("code",)),
    "suppliers": (SupplierRow, ("code",)),
    "supplier_items": (SupplierItemRow, ("supplier", "sku")),
    "stock": (StockRow, ("sku", "node")),
}


def columns(kind: str) -> list[str]:
    return list(KINDS[kind][0].model_fields)


def _read(source: str | IO) -> pd.DataFrame:
    """Read at most MAX_BYTES of text and MAX_ROWS rows, every cell a string."""
    if isinstance(source, str):
        with open(source, encoding="utf-8-sig") as handle:
            text = handle.read(MAX_BYTES + 1)
    else:
        text = source.read(MAX_BYTES + 1)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportErrors([{"row": 1, "field": "file", "message": f"not UTF-8 text: {exc}"}])
    if len(text) > MAX_BYTES:
        raise ImportErrors([{"row": 1, "field": "file",
                             "message": f"files are limited to {MAX_BYTES // 2**20} MiB"}])
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportErrors([{"row": 1, "field": "file", "message": f"not a CSV file: {exc}"}])
    if len(frame) > MAX_ROWS:
        raise ImportErrors([{"row": MAX_ROWS + 2, "field": "file",
                             "message": f"at most {MAX_ROWS} rows per file"}])
    return frame


def parse(kind: str, source: str | IO) -> list[_Row]:
    """Validate a file of ``kind``; raise ImportErrors listing every bad row."""
    if kind not in KINDS:
        raise ImportErrors([{"row": 1, "field": "kind",
                             "message": f"unknown kind {kind!r}; one of {', '.join(KINDS)}"}])
    model, key = KINDS[kind]
    frame = _read(source)
    errors: list[dict] = []
    known = set(model.model_fields)
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    for col in frame.columns:
        if col not in known:
            errors.append({"row": 1, "field": col, "message": "unknown column"})
    for col in sorted(required - set(frame.columns)):
        errors.append({"row": 1, "field": col, "message": "required column is missing"})
    if errors:
        raise ImportErrors(errors)
    rows, seen, complete = [], {}, True
    for i, record in enumerate(frame.to_dict("records")):
        line = i + 2
        if len(errors) >= MAX_ERRORS:
            _truncated(errors, line)
            complete = False
            break
        data = {k: v for k, v in record.items() if v != ""}
        if kind == "channels" and "nodes" in data:
            data["nodes"] = [n.strip() for n in data["nodes"].split(";") if n.strip()]
        try:
            row = model.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                errors.append({"row": line, "field": str(e["loc"][0]) if e["loc"] else "row",
                               "message": e["msg"]})
            continue
        ident = tuple(getattr(row, k) for k in key)
        if ident in seen:
            errors.append({"row": line, "field": key[0],
                           "message": f"duplicate of row {seen[ident]}"})
            continue
        seen[ident] = line
        rows.append((line, row))
    if errors:
        raise ImportErrors(errors, valid_rows=rows if complete else None)
    return rows


def _truncated(errors: list[dict], line: int) -> None:
    errors.append({"row": line, "field": "file",
                   "message": f"more than {MAX_ERRORS} errors; checking stopped here"})


def reference_errors(session: Session, kind: str, rows) -> list[dict]:
    """The unknown SKUs, nodes and suppliers the rows name, as import errors."""
    errors: list[dict] = []
    skus = set(session.scalars(select(Sku.code)))
    nodes = set(session.scalars(select(Node.code)))
    suppliers = set(session.scalars(select(Supplier.code)))
    for line, row in rows:
        if len(errors) >= MAX_ERRORS:
            _truncated(errors, line)
            break
        refs = {"lanes": [("node", nodes)], "supplier_items": [("supplier", suppliers),
                                                               ("sku", skus)],
                "stock": [("sku", skus), ("node", nodes)]}.get(kind, [])
        for field, pool in refs:
            if getattr(row, field) not in pool:
                errors.append({"row": line, "field": field,
                               "message": f"unknown {field} {getattr(row, field)!r}"})
        if kind == "channels":
            for n in row.nodes:
                if n not in nodes:
                    errors.append({"row": line, "field": "nodes", "message": f"unknown node {n!r}"})
    return errors


def import_rows(session: Session, kind: str, rows, *, actor: str = "import") -> int:
    """Write validated rows in the caller's transaction (all or nothing)."""
    errors = reference_errors(session, kind, rows)
    if errors:
        raise ImportErrors(errors)
    records = [row.model_dump() for _, row in rows]
    if kind == "stock":
        return _import_counts(session, records, actor)
    writer = {"skus": master.upsert_skus, "nodes": master.upsert_nodes,
              "lanes": master.upsert_lanes, "channels": master.upsert_channels,
              "suppliers": master.upsert_suppliers,
              "supplier_items": master.upsert_supplier_items}[kind]
    return writer(session, records)


def _import_counts(session: Session, records: list[dict], actor: str) -> int:
    """Post count_gain / count_loss so each counted ``available`` becomes the number counted.

    The counted positions are locked (in the posting's canonical (sku_id,
    node_id) order) before they are read, so a reservation made meanwhile
    cannot be overwritten by a difference computed from a stale balance.
    """
    sku_ids = dict(session.execute(select(Sku.code, Sku.id)).all())
    node_ids = dict(session.execute(select(Node.code, Node.id)).all())
    wanted = {(sku_ids[r["sku"]], node_ids[r["node"]]) for r in records}
    current: dict[tuple[int, int], int] = {}
    ordered = sorted({sku for sku, _ in wanted})
    for i in range(0, len(ordered), 500):
        stmt = (select(StockPosition.sku_id, StockPosition.node_id, StockPosition.available)
                .where(StockPosition.sku_id.in_(ordered[i:i + 500]))
                .order_by(StockPosition.sku_id, StockPosition.node_id).with_for_update())
        for sku_id, node_id, available in session.execute(stmt):
            if (sku_id, node_id) in wanted:
                current[(sku_id, node_id)] = available
    moves = []
    for r in records:
        diff = r["available"] - current.get((sku_ids[r["sku"]], node_ids[r["node"]]), 0)
        if diff:
            moves.append(Movement("count_gain" if diff > 0 else "count_loss", r["sku"],
                                  abs(diff), r["node"], doc_type="count", doc_id="import"))
    for i in range(0, len(moves), 5_000):
        post(session, moves[i:i + 5_000], actor=actor)
    return len(records)


def _cell(value) -> str:
    """One CSV cell: booleans as true/false, decimals without trailing zeros, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def export(session: Session, kind: str) -> str:
    if kind not in KINDS:
        raise ImportErrors([{"row": 1, "field": "kind",
                             "message": f"unknown kind {kind!r}; one of {', '.join(KINDS)}"}])
    cols = columns(kind)
    if kind == "lanes":
        rows = [{"node": code, **{c: getattr(l, c) for c in cols if c != "node"}}
                for l, code in session.execute(select(Lane, Node.code)
                                               .join(Node, Node.id == Lane.node_id)
                                               .order_by(Node.code, Lane.region, Lane.service))]
    elif kind == "channels":
        rows = [{"code": c.code, "name": c.name,
                 "backorder_penalty_per_unit": c.backorder_penalty_per_unit,
                 "nodes": ";".join(n.code for n in c.nodes)}
                for c in session.scalars(select(Channel).order_by(Channel.code))]
    elif kind == "supplier_items":
        rows = [{"supplier": sup, "sku": sku, "unit_cost": i.unit_cost, "moq": i.moq}
                for i, sup, sku in session.execute(
                    select(SupplierItem, Supplier.code, Sku.code)
                    .join(Supplier, Supplier.id == SupplierItem.supplier_id)
                    .join(Sku, Sku.id == SupplierItem.sku_id).order_by(Supplier.code, Sku.code))]
    elif kind == "stock":
        rows = [{"sku": b.sku, "node": b.node, "available": b.available}
                for b in queries.balances(session)]
    else:
        model = {"skus": Sku, "nodes": Node, "suppliers": Supplier}[kind]
        rows = [{c: getattr(o, c) for c in cols}
                for o in session.scalars(select(model).order_by(model.code))]
    frame = pd.DataFrame([[_cell(r.get(c)) for c in cols] for r in rows], columns=cols)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()
