"""Master data writes: upserts by code, shared by import, the demo world and tests.

Each function takes already-validated plain records (see ``ledger.importexport``
for validation of files) and creates or updates rows by their natural key.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import UnknownNode, UnknownSku, LedgerError
from ledger.models import (
    Channel, ChannelNode, Lane, Node, Sku, SkuNodeSetting, Supplier, SupplierItem,
)


def _by_code(session: Session, model, codes: Iterable[str]) -> dict:
    codes = list(set(codes))
    if not codes:
        return {}
    found = {}
    for i in range(0, len(codes), 500):
        chunk = codes[i:i + 500]
        found.update({o.code: o for o in session.scalars(select(model).where(model.code.in_(chunk)))})
    return found


def _ids(session: Session, model, codes: Iterable[str], error, field: str) -> dict[str, int]:
    found = {code: obj.id for code, obj in _by_code(session, model, codes).items()}
    missing = sorted(set(codes) - found.keys())
    if missing:
        raise error(f"unknown {field}: {', '.join(missing[:10])}", field=field)
    return found


def _upsert(session: Session, model, records: Iterable[Mapping], key: str = "code") -> int:
    records = list(records)
    existing = _by_code(session, model, (r[key] for r in records))
    for r in records:
        obj = existing.get(r[key])
        if obj is None:
            session.add(model(**r))
        else:
            for field, value in r.items():
                setattr(obj, field, value)
    session.flush()
    return len(records)


def upsert_skus(session: Session, records: Iterable[Mapping]) -> int:
    return _upsert(session, Sku, records)


def upsert_nodes(session: Session, records: Iterable[Mapping]) -> int:
    return _upsert(session, Node, records)


def upsert_suppliers(session: Session, records: Iterable[Mapping]) -> int:
    return _upsert(session, Supplier, records)


def upsert_channels(session: Session, records: Iterable[Mapping]) -> int:
    """Records carry ``nodes``: a list of node codes (empty = all nodes)."""
    records = [dict(r) for r in records]
    node_ids = _ids(session, Node, {n for r in records for n in r.get("nodes") or []},
                    UnknownNode, "nodes")
    node_lists = {r["code"]: r.pop("nodes", None) or [] for r in records}
    _upsert(session, Channel, records)
    channels = _by_code(session, Channel, node_lists)
    for code, nodes in node_lists.items():
        channel = channels[code]
        session.query(ChannelNode).filter_by(channel_id=channel.id).delete()
        for n in sorted(set(nodes)):
            session.add(ChannelNode(channel_id=channel.id, node_id=node_ids[n]))
    session.flush()
    return len(records)


def upsert_lanes(session: Session, records: Iterable[Mapping]) -> int:
    records = list(records)
    node_ids = _ids(session, Node, {r["node"] for r in records}, UnknownNode, "node")
    existing = {(l.node_id, l.region, l.service): l for l in session.scalars(select(Lane))}
    for r in records:
        values = {k: v for k, v in r.items() if k != "node"}
        key = (node_ids[r["node"]], r["region"], r.get("service", "standard"))
        lane = existing.get(key)
        if lane is None:
            lane = Lane(node_id=key[0], **values)
            session.add(lane)
            existing[key] = lane
        else:
            for field, value in values.items():
                setattr(lane, field, value)
    session.flush()
    return len(records)


def upsert_supplier_items(session: Session, records: Iterable[Mapping]) -> int:
    records = list(records)
    sup_ids = _ids(session, Supplier, {r["supplier"] for r in records}, LedgerError, "supplier")
    sku_ids = _ids(session, Sku, {r["sku"] for r in records}, UnknownSku, "sku")
    existing = {(i.supplier_id, i.sku_id): i for i in session.scalars(select(SupplierItem))}
    for r in records:
        key = (sup_ids[r["supplier"]], sku_ids[r["sku"]])
        values = {k: v for k, v in r.items() if k not in ("supplier", "sku")}
        item = existing.get(key)
        if item is None:
            item = SupplierItem(supplier_id=key[0], sku_id=key[1], **values)
            session.add(item)
            existing[key] = item
        else:
            for field, value in values.items():
                setattr(item, field, value)
    session.flush()
    return len(records)


def upsert_sku_node_settings(session: Session, records: Iterable[Mapping]) -> int:
    records = list(records)
    sku_ids = _ids(session, Sku, {r["sku"] for r in records}, UnknownSku, "sku")
    node_ids = _ids(session, Node, {r["node"] for r in records}, UnknownNode, "node")
    for r in records:
        key = (sku_ids[r["sku"]], node_ids[r["node"]])
        values = {k: v for k, v in r.items() if k not in ("sku", "node")}
        setting = session.get(SkuNodeSetting, key)
        if setting is None:
            session.add(SkuNodeSetting(sku_id=key[0], node_id=key[1], **values))
        else:
            for field, value in values.items():
                setattr(setting, field, value)
    session.flush()
    return len(records)
