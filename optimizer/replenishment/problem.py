"""The replenishment problem: contract-level parsing and validation, then an immutable index form.

``ProblemIn`` (pydantic, ``extra="forbid"``) is the contract's JSON document;
``parse_problem`` validates it, checks cross references, and builds a frozen
``ReplenishmentProblem`` with numpy arrays indexed [sku, node, period]. Every
problem found is collected and raised as one ``ReplenishmentInputError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Limits (documented in docs/replenishment.md).
MAX_PERIODS = 104
MAX_SKUS = 20_000
MAX_NODES = 50
MAX_SUPPLIERS = 500
MAX_CELLS = 1_000_000          # SKUs x nodes x periods per solve
MAX_SUPPLIER_ITEMS = 100_000
MAX_QTY = 1_000_000_000
MAX_COST = 1e9
MAX_TIME_LIMIT_S = 3600.0

Id = Annotated[str, Field(min_length=1, max_length=128)]
Qty = Annotated[int, Field(ge=0, le=MAX_QTY)]
SignedQty = Annotated[int, Field(ge=-MAX_QTY, le=MAX_QTY)]
Cost = Annotated[float, Field(ge=0, le=MAX_COST, allow_inf_nan=False)]
Period = Annotated[int, Field(ge=0, le=MAX_PERIODS - 1)]
Strategy = Literal["optimal", "minmax"]
STRATEGIES = ("optimal", "minmax")


class ReplenishmentInputError(ValueError):
    """Bad input; ``errors`` is a list of ``{"field": path, "message": text}``."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors[:20]))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SkuIn(_Model):
    sku: Id
    holding_cost: Cost
    backlog_cost: Cost
    case_pack: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    volume: Cost = 1.0


class NodeIn(_Model):
    id: Id
    receiving_capacity: Qty | None = None


class InboundIn(_Model):
    period: Period
    qty: Qty


class PositionIn(_Model):
    sku: Id
    node: Id
    on_hand: SignedQty = 0
    safety_stock: Qty = 0
    inbound: Annotated[list[InboundIn], Field(max_length=MAX_PERIODS * 10)] = []


class DemandIn(_Model):
    sku: Id
    node: Id
    period: Period
    qty: Qty


class SupplierIn(_Model):
    id: Id
    lead_time_periods: Annotated[int, Field(ge=0, le=MAX_PERIODS)]
    capacity_units: Qty | None = None
    fixed_order_cost: Cost = 0.0


class SupplierItemIn(_Model):
    supplier: Id
    sku: Id
    unit_cost: Cost
    moq: Qty = 0


class PolicyIn(_Model):
    safety_stock_penalty: Cost = 0.0
    budget: Cost | None = None
    time_limit_seconds: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT_S,
                                               allow_inf_nan=False)] = 30.0
    strategy: Strategy = "optimal"
    review_periods: Annotated[int, Field(ge=1, le=MAX_PERIODS)] = 2


class ProblemIn(_Model):
    """The replenishment problem document (the contract)."""

    periods: Annotated[int, Field(ge=1, le=MAX_PERIODS)]
    period_days: Annotated[int, Field(ge=1, le=366)] = 7
    skus: Annotated[list[SkuIn], Field(max_length=MAX_SKUS)]
    nodes: Annotated[list[NodeIn], Field(min_length=1, max_length=MAX_NODES)]
    positions: list[PositionIn] = []
    demand: list[DemandIn] = []
    suppliers: Annotated[list[SupplierIn], Field(max_length=MAX_SUPPLIERS)]
    supplier_items: Annotated[list[SupplierItemIn], Field(max_length=MAX_SUPPLIER_ITEMS)]
    policy: PolicyIn = PolicyIn()


@dataclass(frozen=True, eq=False)
class ReplenishmentProblem:
    """Index form. Arrays are [sku, node, period]; items are (supplier, sku) pairs."""

    periods: int
    period_days: int
    sku_ids: tuple[str, ...]
    node_ids: tuple[str, ...]
    supplier_ids: tuple[str, ...]
    holding_cost: np.ndarray      # [S]
    backlog_cost: np.ndarray      # [S]
    case_pack: np.ndarray         # [S] int
    receiving_capacity: np.ndarray  # [N] int, -1 = unlimited
    on_hand: np.ndarray           # [S, N] int
    safety_stock: np.ndarray      # [S, N] int
    inbound: np.ndarray           # [S, N, T] int
    demand: np.ndarray            # [S, N, T] int
    lead_time: np.ndarray         # [U] int
    supplier_capacity: np.ndarray  # [U] int, -1 = unlimited
    fixed_order_cost: np.ndarray  # [U]
    item_supplier: np.ndarray     # [I] int
    item_sku: np.ndarray          # [I] int
    item_unit_cost: np.ndarray    # [I]
    item_moq: np.ndarray          # [I] int
    safety_stock_penalty: float
    budget: float | None
    time_limit_s: float
    strategy: str
    review_periods: int
    # Internal (decomposition): capacity left per [supplier, period] / [node, period], -1 = none.
    supplier_capacity_by_period: np.ndarray | None = None
    receiving_capacity_by_period: np.ndarray | None = None
    # Internal (neighbourhood search): fixed cost per [supplier, node, period] still to pay.
    fixed_cost_by_slot: np.ndarray | None = None

    def supplier_cap(self, u: int, t: int) -> int:
        if self.supplier_capacity_by_period is not None:
            return int(self.supplier_capacity_by_period[u, t])
        return int(self.supplier_capacity[u])

    def receiving_cap(self, n: int, t: int) -> int:
        if self.receiving_capacity_by_period is not None:
            return int(self.receiving_capacity_by_period[n, t])
        return int(self.receiving_capacity[n])

    def fixed_cost(self, u: int, n: int, t: int) -> float:
        if self.fixed_cost_by_slot is not None:
            return float(self.fixed_cost_by_slot[u, n, t])
        return float(self.fixed_order_cost[u])

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.demand.shape

    def item_min_qty(self, i: int) -> int:
        """Smallest legal order of item i: a positive case-pack multiple ≥ moq."""
        cp = int(self.case_pack[self.item_sku[i]])
        return cp * max(1, math.ceil(int(self.item_moq[i]) / cp))

    def items_of_sku(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.sku_ids]
        for i, s in enumerate(self.item_sku):
            out[int(s)].append(i)
        return out


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_SECTIONS = {"skus": (SkuIn, MAX_SKUS), "nodes": (NodeIn, MAX_NODES),
             "positions": (PositionIn, None), "demand": (DemandIn, None),
             "suppliers": (SupplierIn, MAX_SUPPLIERS),
             "supplier_items": (SupplierItemIn, MAX_SUPPLIER_ITEMS)}


def _reference_errors(T: int | None, parts: dict[str, list[tuple[int, Any]]],
                      more_ids: Mapping[str, set[str]] | None = None,
                      unreadable: frozenset[str] = frozenset()) -> list[dict]:
    """Duplicates, references and periods among the items given as (index in the document,
    item); ``T`` None skips the period checks (the horizon itself is invalid); ``more_ids``
    per section (skus, nodes, suppliers): ids of items that failed validation for other
    reasons, so references to them are not reported as unknown; ``unreadable``: sections
    that are not a list of items at all (or too long), whose ids are not known, so
    references to them are not checked."""
    more_ids = more_ids or {}
    errors: list[dict[str, str]] = []

    def err(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    def index(name, key) -> set[str] | None:
        if name in unreadable:
            return None
        out: set[str] = set()
        for k, row in parts[name]:
            v = getattr(row, key)
            if v in out:
                err(f"{name}[{k}].{key}", f"duplicate id {v!r}")
            out.add(v)
        return out | more_ids.get(name, set())

    skus, nodes, suppliers = index("skus", "sku"), index("nodes", "id"), index("suppliers", "id")
    if (T is not None and not unreadable & {"skus", "nodes"}
            and len(parts["skus"]) * len(parts["nodes"]) * T > MAX_CELLS):
        err("skus", f"SKUs x nodes x periods = {len(parts['skus']) * len(parts['nodes']) * T} "
                    f"exceeds the limit {MAX_CELLS}")
        return errors

    def ref(pool, value, field, what) -> bool:
        if pool is None:   # its section is reported on its own; its ids are unknown
            return True
        if value not in pool:
            err(field, f"unknown {what} {value!r}")
            return False
        return True

    def period(p, field) -> bool:
        if T is not None and p > T - 1:
            err(field, f"period {p} is outside 0 … {T - 1}")
            return False
        return True

    seen: set = set()
    for k, pos in parts["positions"]:
        ok = ref(skus, pos.sku, f"positions[{k}].sku", "SKU")
        ok = ref(nodes, pos.node, f"positions[{k}].node", "node") and ok
        for j, ib in enumerate(pos.inbound):
            period(ib.period, f"positions[{k}].inbound[{j}].period")
        if ok and (pos.sku, pos.node) in seen:
            err(f"positions[{k}]", f"duplicate position for ({pos.sku}, {pos.node})")
        seen.add((pos.sku, pos.node))
    seen = set()
    for k, d in parts["demand"]:
        ok = ref(skus, d.sku, f"demand[{k}].sku", "SKU")
        ok = ref(nodes, d.node, f"demand[{k}].node", "node") and ok
        ok = period(d.period, f"demand[{k}].period") and ok
        if ok and (d.sku, d.node, d.period) in seen:
            err(f"demand[{k}]", f"duplicate demand for ({d.sku}, {d.node}, {d.period})")
        seen.add((d.sku, d.node, d.period))
    seen = set()
    for k, it in parts["supplier_items"]:
        ok = ref(suppliers, it.supplier, f"supplier_items[{k}].supplier", "supplier")
        ok = ref(skus, it.sku, f"supplier_items[{k}].sku", "SKU") and ok
        if ok and (it.supplier, it.sku) in seen:
            err(f"supplier_items[{k}]", f"duplicate item ({it.supplier}, {it.sku})")
        seen.add((it.supplier, it.sku))
    return errors


def _partial_reference_errors(document: Mapping) -> list[dict]:
    """The reference checks on the parts of an invalid document that did validate."""
    parts: dict[str, list[tuple[int, Any]]] = {}
    more_ids: dict[str, set[str]] = {}
    unreadable: set[str] = set()
    id_key = {"skus": "sku", "nodes": "id", "suppliers": "id"}
    for name, (model, limit) in _SECTIONS.items():
        rows = document.get(name)
        parts[name] = []
        if not isinstance(rows, list) or (limit is not None and len(rows) > limit):
            unreadable.add(name)
            continue
        for k, row in enumerate(rows):
            try:
                parts[name].append((k, model.model_validate(row)))
            except ValidationError:
                if (name in id_key and isinstance(row, Mapping)
                        and isinstance(row.get(id_key[name]), str)):
                    more_ids.setdefault(name, set()).add(row[id_key[name]])
    T = document.get("periods")
    valid_T = type(T) is int and 1 <= T <= MAX_PERIODS
    return _reference_errors(T if valid_T else None, parts, more_ids, frozenset(unreadable))


def parse_problem(document: Mapping[str, Any] | ProblemIn) -> ReplenishmentProblem:
    """Validate a contract document and build the index form, or raise ReplenishmentInputError.

    Every problem at once: field errors, and the reference checks (unknown or duplicate ids,
    periods outside the horizon) on the parts of the document that validated."""
    if isinstance(document, ProblemIn):
        doc = document
    else:
        if not isinstance(document, Mapping):
            raise ReplenishmentInputError(
                [{"field": "(document)", "message": "expected a JSON object"}])
        try:
            doc = ProblemIn.model_validate(dict(document))
        except ValidationError as exc:
            raise ReplenishmentInputError(
                [{"field": _loc(e["loc"]), "message": e["msg"]} for e in exc.errors()]
                + _partial_reference_errors(document)) from None
    errors = _reference_errors(doc.periods, {
        name: list(enumerate(getattr(doc, name))) for name in _SECTIONS})
    if errors:
        raise ReplenishmentInputError(errors)

    T = doc.periods
    S, N, U = len(doc.skus), len(doc.nodes), len(doc.suppliers)
    sku_ix = {x.sku: k for k, x in enumerate(doc.skus)}
    node_ix = {x.id: k for k, x in enumerate(doc.nodes)}
    sup_ix = {x.id: k for k, x in enumerate(doc.suppliers)}
    on_hand = np.zeros((S, N), dtype=np.int64)
    safety = np.zeros((S, N), dtype=np.int64)
    inbound = np.zeros((S, N, T), dtype=np.int64)
    demand = np.zeros((S, N, T), dtype=np.int64)
    for pos in doc.positions:
        s, n = sku_ix[pos.sku], node_ix[pos.node]
        on_hand[s, n] = pos.on_hand
        safety[s, n] = pos.safety_stock
        for ib in pos.inbound:
            inbound[s, n, ib.period] += ib.qty
    for d in doc.demand:
        demand[sku_ix[d.sku], node_ix[d.node], d.period] = d.qty
    items = [(sup_ix[it.supplier], sku_ix[it.sku], it.unit_cost, it.moq)
             for it in doc.supplier_items]
    p = doc.policy
    items_arr = np.array(items, dtype=object).reshape(-1, 4)
    return ReplenishmentProblem(
        periods=T, period_days=doc.period_days,
        sku_ids=tuple(x.sku for x in doc.skus), node_ids=tuple(x.id for x in doc.nodes),
        supplier_ids=tuple(x.id for x in doc.suppliers),
        holding_cost=np.array([x.holding_cost for x in doc.skus], dtype=float).reshape(S),
        backlog_cost=np.array([x.backlog_cost for x in doc.skus], dtype=float).reshape(S),
        case_pack=np.array([x.case_pack for x in doc.skus], dtype=np.int64).reshape(S),
        receiving_capacity=np.array([-1 if x.receiving_capacity is None else x.receiving_capacity
                                     for x in doc.nodes], dtype=np.int64),
        on_hand=on_hand, safety_stock=safety, inbound=inbound, demand=demand,
        lead_time=np.array([x.lead_time_periods for x in doc.suppliers], dtype=np.int64).reshape(U),
        supplier_capacity=np.array([-1 if x.capacity_units is None else x.capacity_units
                                    for x in doc.suppliers], dtype=np.int64).reshape(U),
        fixed_order_cost=np.array([x.fixed_order_cost for x in doc.suppliers],
                                  dtype=float).reshape(U),
        item_supplier=items_arr[:, 0].astype(np.int64),
        item_sku=items_arr[:, 1].astype(np.int64),
        item_unit_cost=items_arr[:, 2].astype(float),
        item_moq=items_arr[:, 3].astype(np.int64),
        safety_stock_penalty=p.safety_stock_penalty, budget=p.budget,
        time_limit_s=p.time_limit_seconds, strategy=p.strategy, review_periods=p.review_periods,
    )
