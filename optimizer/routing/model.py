"""The optimal strategy: a MIP of the whole batch, solved with HiGHS (its C API).

Variables (after presolve drops every pair that cannot help):
  x[l,p]  integer units of line l shipped on eligible pair p = (order, node),
          only where the node holds the SKU and the unit costs less than the penalty;
  y[p]    binary, pair p is a shipment (split-allowed orders);
  z[p]    binary, ship-complete order shipped whole on pair p;
  s[o]    continuous, shipments of order o beyond the first (only when split_penalty > 0).
Rows: x ≤ min(qty, stock)·y; Σ z ≤ 1 per ship-complete order; stock per (node, SKU),
units and shipments per node (only where they can bind); Σ y ≤ max_shipments;
s ≥ Σ y − 1. The objective is the cost model: per-unit savings against the penalty,
with Σ qty·penalty passed to the solver as the objective offset.
With y fixed, what is left for x is a transportation problem with a totally
unimodular matrix (line rows; stock rows nested in node rows), so the LP is
integral in x and the solver branches only on the shipment indicators.
See docs/routing.md for the steps of ``solve_mip`` and the measurements behind them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from . import lns
from .greedy import greedy_allocation, order_lower_bounds
from .plan import allocation_cost
from .problem import RoutingProblem


@dataclass
class MipResult:
    allocation: list[tuple[int, int, int]] | None
    bound: float | None
    proven_optimal: bool
    n_variables: int
    n_constraints: int
    seconds: float


def _expand(counts: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items i with ``counts[i]`` consecutive members from ``starts[i]``: every
    (item, member) pair, as two arrays."""
    counts = np.asarray(counts, dtype=np.int64)
    item = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    member = np.asarray(starts, dtype=np.int64)[item] + (np.arange(len(item)) - first)
    return item, member


class _Rows:
    """Rows collected as blocks of (local row, column, coefficient) triples, each row with
    a sort key (section, a, b) that fixes its place in the model."""

    def __init__(self) -> None:
        self.n = 0
        self.upper: list[np.ndarray] = []
        self.keys: list[np.ndarray] = []
        self.rid: list[np.ndarray] = []
        self.col: list[np.ndarray] = []
        self.val: list[np.ndarray] = []
        self.within: list[np.ndarray] = []

    def add(self, n_rows: int, upper, rid, col, val, keys, within=None) -> None:
        """``within``: the order of the terms inside each row (default: by column)."""
        if n_rows == 0:
            return
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64),
                                          (n_rows,)).copy())
        self.keys.append(np.broadcast_to(np.asarray(keys, dtype=np.int64).T,
                                         (n_rows, 3)).copy())
        self.rid.append(np.asarray(rid, dtype=np.int64) + self.n)
        self.col.append(np.asarray(col, dtype=np.int64))
        self.val.append(np.broadcast_to(np.asarray(val, dtype=np.float64),
                                        (len(self.col[-1]),)).copy())
        self.within.append(self.col[-1] if within is None
                           else np.asarray(within, dtype=np.int64))
        self.n += n_rows

    def grouped(self, n_groups: int, group, col, val, reach, capacity, min_terms: int,
                keys) -> None:
        """One row Σ val·col ≤ capacity per group whose terms could exceed it;
        ``keys(groups, first_column)`` gives the rows' sort keys."""
        group = np.asarray(group, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        count = np.bincount(group, minlength=n_groups)
        total = np.bincount(group, weights=reach, minlength=n_groups)
        capacity = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (n_groups,))
        binding = (total > capacity + 1e-9) & (count >= min_terms) & (capacity >= 0)
        groups = np.flatnonzero(binding)
        ids = np.full(n_groups, -1, dtype=np.int64)
        ids[groups] = np.arange(len(groups))
        keep = ids[group] >= 0
        first = np.full(n_groups, np.iinfo(np.int64).max)
        np.minimum.at(first, group[keep], col[keep])
        self.add(len(groups), capacity[groups], ids[group[keep]], col[keep],
                 np.asarray(val, dtype=np.float64)[keep] if np.ndim(val) else val,
                 keys(groups, first[groups]))

    def csr(self) -> dict:
        if not self.n:
            return dict(row_lower=np.zeros(0), row_upper=np.zeros(0),
                        start=np.zeros(1, dtype=np.int32), index=np.zeros(0, dtype=np.int32),
                        value=np.zeros(0))
        keys = np.concatenate(self.keys)
        row_order = np.lexsort((keys[:, 2], keys[:, 1], keys[:, 0]))
        place = np.empty(self.n, dtype=np.int64)
        place[row_order] = np.arange(self.n)
        rid = place[np.concatenate(self.rid)]
        col = np.concatenate(self.col)
        nz_order = np.lexsort((np.concatenate(self.within), rid))
        start = np.zeros(self.n + 1, dtype=np.int32)
        np.cumsum(np.bincount(rid, minlength=self.n), out=start[1:])
        return dict(row_lower=np.full(self.n, -np.inf),
                    row_upper=np.concatenate(self.upper)[row_order], start=start,
                    index=col[nz_order].astype(np.int32),
                    value=np.concatenate(self.val)[nz_order])


def build_model(problem: RoutingProblem) -> "Model":
    """The batch MIP, built with array operations (no loop over orders or lines)."""
    p = problem
    n_orders, n_lines, n_nodes = p.n_orders, p.n_lines, p.n_nodes
    n_skus = p.stock.shape[1]
    stock = np.asarray(p.stock, dtype=np.int64)
    pen = np.asarray(p.order_penalty, dtype=np.float64)
    sc = np.asarray(p.order_ship_complete, dtype=bool)
    max_ship = np.asarray(p.order_max_shipments, dtype=np.int64)
    line_order = np.asarray(p.line_order, dtype=np.int64)
    line_sku = np.asarray(p.line_sku, dtype=np.int64)
    qty = np.asarray(p.line_qty, dtype=np.int64)
    pair_node = np.asarray(p.pair_node, dtype=np.int64)
    ship_cost = np.asarray(p.pair_ship_cost, dtype=np.float64)
    unit_cost = np.asarray(p.pair_unit_cost, dtype=np.float64)
    cap_u = np.asarray(p.cap_units, dtype=np.int64)
    cap_o = np.asarray(p.cap_orders, dtype=np.int64)
    pair_counts = np.diff(np.asarray(p.order_pair_start, dtype=np.int64))
    pair_order = np.repeat(np.arange(n_orders, dtype=np.int64), pair_counts)
    offset = float((qty * pen[line_order]).sum())

    # Split-allowed orders: x per (line, pair) where the node holds the SKU and a unit
    # there costs less than the penalty; y per pair with at least one x.
    c_line, c_pair = _expand(pair_counts[line_order],
                             np.asarray(p.order_pair_start[:-1], dtype=np.int64)[line_order])
    c_order, c_node = line_order[c_line], pair_node[c_pair]
    c_stock = stock[c_node, line_sku[c_line]]
    keep = (~sc[c_order] & (unit_cost[c_pair] < pen[c_order]) & (cap_o[c_node] != 0)
            & (cap_u[c_node] != 0) & (c_stock > 0) & (qty[c_line] > 0))
    x_line, x_pair, x_node = c_line[keep], c_pair[keep], c_node[keep]
    x_order, x_sku = c_order[keep], line_sku[x_line]
    x_ub = np.minimum(qty[x_line], c_stock[keep])
    x_ub = np.where(cap_u[x_node] >= 0, np.minimum(x_ub, cap_u[x_node]), x_ub)
    x_obj = unit_cost[x_pair] - pen[x_order]
    y_pair, x_y = np.unique(x_pair, return_inverse=True)
    y_order, y_node = pair_order[y_pair], pair_node[y_pair]

    # Ship-complete orders: z per pair that can ship the whole order (stock of every SKU,
    # node capacities) for less than backordering it.
    sc_line = np.flatnonzero(sc[line_order])
    key = line_order[sc_line] * n_skus + line_sku[sc_line]
    e_key, e_inv = np.unique(key, return_inverse=True)
    need = np.bincount(e_inv, weights=qty[sc_line]).astype(np.int64)
    e_order, e_sku = e_key // n_skus, e_key % n_skus
    total = np.bincount(line_order[sc_line], weights=qty[sc_line],
                        minlength=n_orders).astype(np.int64)
    e_count = np.bincount(e_order, minlength=n_orders)
    e_start = np.cumsum(e_count) - e_count
    sc_pair = np.flatnonzero(sc[pair_order])
    so, sn = pair_order[sc_pair], pair_node[sc_pair]
    z_cost = ship_cost[sc_pair] + unit_cost[sc_pair] * total[so]
    ok = ((total[so] > 0) & (z_cost < pen[so] * total[so]) & (cap_o[sn] != 0)
          & ~((cap_u[sn] >= 0) & (cap_u[sn] < total[so])))
    t_pair, t_entry = _expand(e_count[so], e_start[so])
    short = stock[sn[t_pair], e_sku[t_entry]] < need[t_entry]
    ok &= np.bincount(t_pair[short], minlength=len(sc_pair)) == 0
    z_pair = sc_pair[ok]
    z_order, z_node = pair_order[z_pair], pair_node[z_pair]
    z_obj = z_cost[ok] - pen[z_order] * total[z_order]
    z_index = np.full(len(sc_pair), -1, dtype=np.int64)
    z_index[ok] = np.arange(len(z_pair))
    t_keep = (z_index[t_pair] >= 0) & (need[t_entry] > 0)
    t_z, t_entry = z_index[t_pair[t_keep]], t_entry[t_keep]

    # Columns in the order a loop over orders would make them: per order, each pair's
    # indicator followed by its lines' units, the order's s last. (HiGHS is sensitive to
    # the order: on the 500-order benchmark instances this one proves optimality about
    # twice as fast as all y, then all x.)
    n_y, n_x, n_z = len(y_pair), len(x_line), len(z_pair)
    y_count = np.bincount(y_order, minlength=n_orders)
    s_order = (np.flatnonzero(y_count > 1) if p.split_penalty > 0
               else np.zeros(0, dtype=np.int64))
    n_s = len(s_order)
    n_col = n_y + n_x + n_z + n_s
    block_order = np.concatenate([y_order, x_order, z_order, s_order])
    block_pair = np.concatenate([y_pair, x_pair, z_pair,
                                 np.full(n_s, len(pair_node), dtype=np.int64)])
    block_sub = np.concatenate([np.zeros(n_y, dtype=np.int64), 1 + x_line,
                                np.zeros(n_z + n_s, dtype=np.int64)])
    col_order = np.lexsort((block_sub, block_pair, block_order))
    pos = np.empty(n_col, dtype=np.int64)
    pos[col_order] = np.arange(n_col)
    y_col, x_col = pos[:n_y], pos[n_y:n_y + n_x]
    z_col, s_col = pos[n_y + n_x:n_y + n_x + n_z], pos[n_y + n_x + n_z:]
    cost = np.concatenate([ship_cost[y_pair], x_obj, z_obj,
                           np.full(n_s, float(p.split_penalty))])[col_order]
    upper = np.concatenate([np.ones(n_y), x_ub.astype(np.float64), np.ones(n_z),
                            (y_count[s_order] - 1).astype(np.float64)])[col_order]
    integrality = np.concatenate([np.ones(n_y + n_x + n_z, dtype=np.int32),
                                  np.zeros(n_s, dtype=np.int32)])[col_order]
    var_order = block_order[col_order]

    # Rows: per order (its x ≤ ub·y rows, line rows, max shipments, split count; or its
    # one-z row), then stock rows in the order of their first column, then node rows.
    rows = _Rows()
    zero = np.zeros(0, dtype=np.int64)

    def per_order(kind: int):
        return lambda groups, first: (np.zeros_like(groups), first, np.full_like(groups, kind))

    # x ≤ ub · y
    rows.add(n_x, 0.0, np.repeat(np.arange(n_x), 2), np.column_stack([x_col, y_col[x_y]]).ravel(),
             np.column_stack([np.ones(n_x), -x_ub.astype(np.float64)]).ravel(),
             (np.zeros(n_x, dtype=np.int64), x_col, np.zeros(n_x, dtype=np.int64)),
             within=np.tile([0, 1], n_x))
    # Σ x of a line ≤ its quantity (only lines with several candidate nodes); its key is
    # after the order's last x ≤ ub·y row
    last_x = np.full(n_orders, -1, dtype=np.int64)
    np.maximum.at(last_x, x_order, x_col)
    rows.grouped(n_lines, x_line, x_col, 1.0, np.full(n_x, np.inf), qty, 2,
                 lambda g, first: (np.zeros_like(g), last_x[line_order[g]], 1 + first))
    # one z per ship-complete order
    rows.grouped(n_orders, z_order, z_col, 1.0, np.full(n_z, np.inf), 1.0, 2, per_order(0))
    # Σ y ≤ max shipments, after the order's line rows
    limit = np.where(max_ship > 0, max_ship, n_nodes + 1)
    big = np.iinfo(np.int64).max // 4
    rows.grouped(n_orders, y_order, y_col, 1.0, np.ones(n_y), limit, 1,
                 lambda g, first: (np.zeros_like(g), last_x[g], np.full_like(g, big)))
    # Σ y − s ≤ 1, last of its order
    s_ids = np.full(n_orders, -1, dtype=np.int64)
    s_ids[s_order] = np.arange(n_s)
    in_s = s_ids[y_order] >= 0
    rows.add(n_s, 1.0, np.concatenate([s_ids[y_order[in_s]], np.arange(n_s)]),
             np.concatenate([y_col[in_s], s_col]),
             np.concatenate([np.ones(int(in_s.sum())), -np.ones(n_s)]),
             (np.zeros(n_s, dtype=np.int64), s_col, np.zeros(n_s, dtype=np.int64)))
    # stock per (node, SKU), then units and shipments per node, where they can bind
    t_col = z_col[t_z] if n_z else zero
    rows.grouped(n_nodes * n_skus,
                 np.concatenate([x_node * n_skus + x_sku,
                                 z_node[t_z] * n_skus + e_sku[t_entry]]),
                 np.concatenate([x_col, t_col]),
                 np.concatenate([np.ones(n_x), need[t_entry].astype(np.float64)]),
                 np.concatenate([x_ub, need[t_entry]]).astype(np.float64),
                 stock.ravel().astype(np.float64), 2,
                 lambda g, first: (np.ones_like(g), first, np.zeros_like(g)))
    rows.grouped(n_nodes, np.concatenate([x_node, z_node]), np.concatenate([x_col, z_col]),
                 np.concatenate([np.ones(n_x), total[z_order]]),
                 np.concatenate([x_ub, total[z_order]]).astype(np.float64),
                 np.where(cap_u >= 0, cap_u, -1).astype(np.float64), 1,
                 lambda g, first: (np.full_like(g, 2), g, np.zeros_like(g)))
    rows.grouped(n_nodes, np.concatenate([y_node, z_node]), np.concatenate([y_col, z_col]),
                 1.0, np.ones(n_y + n_z), np.where(cap_o >= 0, cap_o, -1).astype(np.float64),
                 1, lambda g, first: (np.full_like(g, 2), g, np.ones_like(g)))
    arrays = dict(cost=cost, lower=np.zeros(n_col), upper=upper, integrality=integrality,
                  **rows.csr())

    line_start = np.asarray(p.order_line_start, dtype=np.int64)

    def decode(values: np.ndarray) -> list[tuple[int, int, int]]:
        q = np.rint(values[x_col]).astype(np.int64)
        on = q > 0
        out = list(zip(x_line[on].tolist(), x_node[on].tolist(), q[on].tolist()))
        chosen = np.flatnonzero(values[z_col] > 0.5)
        if len(chosen):
            zo, zl = _expand(line_start[z_order[chosen] + 1] - line_start[z_order[chosen]],
                             line_start[z_order[chosen]])
            out.extend(zip(zl.tolist(), z_node[chosen][zo].tolist(), qty[zl].tolist()))
        return out

    def encode(allocation) -> np.ndarray:
        """Solver values of a plan (a starting solution); pairs outside the model are
        left out, so a plan using them gives an infeasible start that HiGHS ignores."""
        values = np.zeros(n_col)
        if not len(allocation):
            return values
        a = np.asarray(allocation, dtype=np.int64).reshape(-1, 3)
        a = a[a[:, 2] > 0]
        keys, inv = np.unique(a[:, 0] * n_nodes + a[:, 1], return_inverse=True)
        shipped = np.bincount(inv, weights=a[:, 2]).astype(np.int64)

        def lookup(k: np.ndarray) -> np.ndarray:
            pos = np.minimum(np.searchsorted(keys, k), len(keys) - 1)
            return np.where(keys[pos] == k, shipped[pos], 0)

        values[x_col] = lookup(x_line * n_nodes + x_node)
        k_line, k_node = keys // n_nodes, keys % n_nodes
        ships = np.unique(line_order[k_line] * n_nodes + k_node)   # (order, node) shipping
        pos = np.minimum(np.searchsorted(ships, y_order * n_nodes + y_node), len(ships) - 1)
        values[y_col] = ships[pos] == y_order * n_nodes + y_node
        n_lines_of = np.diff(line_start)
        full = np.bincount(np.searchsorted(ships, line_order[k_line] * n_nodes + k_node),
                           minlength=len(ships))    # lines of (order, node) shipped
        zk = z_order * n_nodes + z_node
        zpos = np.minimum(np.searchsorted(ships, zk), len(ships) - 1)
        values[z_col] = (ships[zpos] == zk) & (full[zpos] == n_lines_of[z_order])
        values[s_col] = np.maximum(0, np.bincount(ships // n_nodes,
                                               minlength=n_orders)[s_order] - 1)
        return values

    indicators = np.concatenate([y_col, z_col]).astype(np.int64)
    parts = dict(x_col=x_col, x_ub=x_ub, x_ycol=y_col[x_y], y_col=y_col)
    # Units no plan can ship (no column for them, or more than all of a line's columns
    # together may carry): their penalty is in every plan's cost.
    shippable = np.minimum(qty, np.bincount(x_line, weights=x_ub, minlength=n_lines))
    shippable = np.where(sc[line_order],
                         np.where(np.bincount(z_order, minlength=n_orders)[line_order] > 0,
                                  qty, 0), shippable)
    unavoidable = float(((qty - shippable) * pen[line_order]).sum())
    return Model(arrays, decode, offset, indicators, np.concatenate([y_node, z_node]),
                 np.concatenate([y_pair, z_pair]).astype(np.int64), encode, var_order,
                 parts=parts, unavoidable=unavoidable)


@dataclass
class Model:
    """The built MIP (CSR arrays, as HiGHS takes them) and what is needed to read a
    solution back."""

    arrays: dict            # cost, lower, upper, integrality, row_lower/upper, start, index, value
    decode: object          # values -> [(line, node, qty)]
    offset: float           # Σ qty · penalty, the cost of shipping nothing
    indicator_vars: np.ndarray  # shipment indicators (y and z)
    indicator_nodes: np.ndarray  # the node of each indicator
    indicator_pairs: np.ndarray  # the eligible (order, node) pair of each indicator
    encode: object = None   # allocation -> solver values (a starting solution)
    var_order: np.ndarray | None = None   # the order each variable belongs to
    parts: dict | None = None   # x columns with their bound and indicator; y columns
    unavoidable: float = 0.0    # backorder cost every plan pays (units no column can ship)
    _row_of: np.ndarray | None = None

    @property
    def row_of_nonzero(self) -> np.ndarray:
        """The row of each nonzero of the CSR arrays."""
        if self._row_of is None:
            self._row_of = np.repeat(np.arange(self.n_constraints),
                                     np.diff(self.arrays["start"]))
        return self._row_of

    @property
    def cost(self) -> np.ndarray:
        return self.arrays["cost"]

    @property
    def n_variables(self) -> int:
        return len(self.arrays["cost"])

    @property
    def n_constraints(self) -> int:
        return len(self.arrays["row_lower"])


def averaged_relaxation(model: Model, exact: bool = False):
    """A smaller relaxation of the batch MIP, as CSR arrays with the same offset: each
    shipment indicator y is replaced by the mean of x/ub over its units columns (every
    plan has y ≥ x/ub for each of them, hence ≥ their mean), and the rows x ≤ ub·y are
    dropped. y appears elsewhere only with positive coefficients (shipment cost, node
    shipments, max shipments, split count), so every plan of the MIP maps to a point of
    this LP that costs no more: its optimum is a proven lower bound. It is weaker than the
    LP relaxation (it charges an order split over several nodes only part of each
    shipment) but has no indicator columns and no linking rows: on the 10,000-order
    benchmark batch 382,371 in 3.8 s against the LP's 390,088 in 55 s.

    ``exact``: only the indicators with a single units column are replaced (the mean of
    one column is that column): the LP relaxation itself, in fewer columns and rows
    (``lp_relaxation``).

    Returns the CSR arrays (same offset as the model) and a function that maps a
    solution of them back to the model's columns (each replaced y at its mean), or None
    for a model without units columns."""
    a, parts = model.arrays, model.parts
    n_col, n_row = model.n_variables, model.n_constraints
    if not len(parts["x_col"]):
        return None
    x_col, x_ub, x_y = parts["x_col"], parts["x_ub"].astype(np.float64), parts["x_ycol"]
    row = model.row_of_nonzero
    col = a["index"].astype(np.int64)
    val = a["value"]
    per_y = np.bincount(x_y, minlength=n_col)
    is_y = np.zeros(n_col, dtype=bool)
    is_y[parts["y_col"]] = True
    if exact:
        is_y &= per_y == 1
    weight = 1.0 / (per_y[x_y] * x_ub)           # y ≥ Σ weight · x over its columns
    drop = np.zeros(n_row, dtype=bool)
    drop[row[is_y[col] & (val < 0)]] = True      # the rows x ≤ ub·y
    keep = ~drop[row]
    row, col, val = row[keep], col[keep], val[keep]
    on_y = is_y[col]
    # each y term becomes one term per units column of that y
    by_y = np.argsort(x_y, kind="stable")
    term, member = _expand(per_y[col[on_y]], np.searchsorted(x_y[by_y], col[on_y]))
    member = by_y[member]
    row = np.concatenate([row[~on_y], row[on_y][term]])
    col = np.concatenate([col[~on_y], x_col[member]])
    val = np.concatenate([val[~on_y], val[on_y][term] * weight[member]])
    replaced = is_y[x_y]
    cost = a["cost"].copy()
    np.add.at(cost, x_col[replaced], a["cost"][x_y[replaced]] * weight[replaced])
    kept_cols, kept_rows = np.flatnonzero(~is_y), np.flatnonzero(~drop)
    new_col = np.full(n_col, -1, dtype=np.int64)
    new_col[kept_cols] = np.arange(len(kept_cols))
    new_row = np.full(n_row, -1, dtype=np.int64)
    new_row[kept_rows] = np.arange(len(kept_rows))
    key, inverse = np.unique(new_row[row] * len(kept_cols) + new_col[col], return_inverse=True)
    value = np.bincount(inverse, weights=val)
    start = np.zeros(len(kept_rows) + 1, dtype=np.int32)
    np.cumsum(np.bincount(key // len(kept_cols), minlength=len(kept_rows)), out=start[1:])
    arrays = dict(cost=cost[kept_cols], lower=a["lower"][kept_cols],
                  upper=a["upper"][kept_cols],
                  integrality=np.zeros(len(kept_cols), dtype=np.int32),
                  row_lower=a["row_lower"][kept_rows], row_upper=a["row_upper"][kept_rows],
                  start=start, index=(key % len(kept_cols)).astype(np.int32), value=value)

    def expand(values: np.ndarray) -> np.ndarray:
        """The model's columns from a solution of this LP (each replaced y at its mean)."""
        full = np.zeros(n_col)
        full[kept_cols] = values
        np.add.at(full, x_y[replaced], full[x_col[replaced]] * weight[replaced])
        return full

    return arrays, expand


FULL_MIP_MAX_VARIABLES = 15_000   # measured: HiGHS proves these in seconds
# HiGHS restarting its root after fixing columns is what makes most 500-order proofs
# slow: without restarts, 27 of 30 benchmark-shaped solves prove within 15 s against 23,
# with plans as good on the one instance that proves in neither (docs/benchmarks.md).
SMALL_MIP_OPTIONS = {"mip_allow_restart": False}
RESTRICTED_SHARE = 0.2            # of the time left after the LP
OVERRUN_S_PER_VARIABLE = 1e-5    # kept back for HiGHS overrunning its limit
LP_SHARE_MAX = 0.6                # the LP runs only if it should take at most this share
FULL_SHARE = 0.75                 # of the time left, for the full MIP beside the search
FULL_GRACE_S = 0.2                # the full MIP's time past its limit before it is left
LP_SURE_SHARE = 0.25              # an LP estimated above this share of the time left may
                                  # not fit (the estimate is off by 2x on a slower machine)


def lp_seconds_estimate(n_variables: int) -> float:
    """What the LP relaxation (``lp_relaxation``) takes on one core of the 2-core
    machine, measured on a slow day: 0.9 s at 28,600 variables, about 2 s at 57,000,
    10.7 s at 220,000 (the whole model's LP took 2.9 s and 55 s that day, 25 s at
    220,000 on a faster one)."""
    return 3.5e-5 * n_variables * max(1.0, n_variables / 250_000)


def lp_relaxation(model: Model, *, time_limit_s: float, workers: int, seed: int,
                  relative_gap: float = 1e-4) -> HighsResult:
    """The LP relaxation of the batch MIP, solved in its reduced form: the indicator of a
    pair with a single units column is that column over its bound at any LP optimum (it
    costs, and only ever needs to cover that column), so it is replaced by it and its
    row x ≤ ub·y dropped (``averaged_relaxation(exact=True)``). Same optimum, 30–40%
    fewer columns and rows, and 3–5 times faster (10.7 s against 55 s at 220,256
    variables). The values are returned for the whole model's columns."""
    relaxation = averaged_relaxation(model, exact=True)
    if relaxation is None:
        return highs_solve(model, time_limit_s=time_limit_s, workers=workers, seed=seed,
                           relative_gap=relative_gap, relax=True)
    arrays, expand = relaxation
    lp = highs_solve(SimpleNamespace(arrays=arrays, offset=model.offset),
                     time_limit_s=time_limit_s, workers=workers, seed=seed,
                     relative_gap=relative_gap, relax=True)
    if lp.values is not None:
        lp.values = expand(lp.values)
    return lp


def solve_mip(problem: RoutingProblem, *, time_limit_s: float, workers: int, seed: int,
              relative_gap: float = 1e-4, deadline: float | None = None,
              start_allocation=None) -> MipResult:
    """Best plan and proven bound the time allows, with HiGHS through its C API (which,
    unlike OR-Tools' wrapper, returns the incumbent and the dual bound on a time limit).

    Small models (up to ``FULL_MIP_MAX_VARIABLES``): the full MIP from the greedy plan for
    all the time, without root restarts (``SMALL_MIP_OPTIONS``). Larger ones:
    1. the LP relaxation (``lp_relaxation``), whose optimum is a proven bound; with
       ``workers >= 2`` search from the greedy plan runs beside it, after the averaged
       relaxation (``averaged_relaxation``: a weaker bound in a fraction of the time)
       when the LP may not fit; if the LP does not finish, the search's plan and that
       bound are returned. With one worker the LP gets three quarters of the time left,
       and the search the rest if it does not finish;
    2. greedy guided by the LP's shipment indicators (a plan in hand);
    3. the MIP over the indicators the LP left fractional (the others fixed where the LP
       put them), from the guided plan, for a share of the time left;
    4. then, side by side on two threads (one after the other with ``workers=1``):
       the full MIP from the best plan, whose root cuts raise the bound
       (``mip_dual_bound``) and which may improve the plan; and large-neighbourhood
       search (``lns.improve``) from the same plan, which improves it by re-solving
       small groups of competing orders to optimality.
    """
    start = time.perf_counter()
    deadline = deadline if deadline is not None else start + time_limit_s
    model = build_model(problem)
    options = dict(workers=workers, seed=seed, relative_gap=relative_gap)

    def result(allocation, bound, proven):
        return MipResult(allocation, bound, proven, model.n_variables, model.n_constraints,
                         time.perf_counter() - start)

    if model.n_variables == 0:
        return result([], model.offset, True)
    if start_allocation is None:
        start_allocation = greedy_allocation(problem)
    best_alloc = start_allocation
    objective = allocation_cost(problem, start_allocation).total

    if model.n_variables <= FULL_MIP_MAX_VARIABLES:
        # HiGHS's gap is relative to the whole objective. When backorders no plan can
        # avoid are most of it, 10⁻⁴ of it can be several percent of what routing decides
        # (shipments, units, splits), so the gap asked is scaled to the part of the cost
        # the plan can change.
        changeable = max(1.0, objective - model.unavoidable) / max(1.0, abs(objective))
        full = highs_solve(model, time_limit_s=deadline - time.perf_counter(),
                           start=model.encode(start_allocation), options=SMALL_MIP_OPTIONS,
                           **{**options, "relative_gap": relative_gap * min(1.0, changeable)})
        if full.values is not None and full.objective < objective - 1e-9:
            best_alloc, objective = model.decode(full.values), full.objective
        return result(best_alloc, full.bound, full.optimal and objective - (
            full.bound if full.bound is not None else -np.inf)
            <= relative_gap * max(1.0, abs(objective)))
    # HiGHS overruns its limit on large models (finishing an LP iteration or presolve):
    # measured about 2 s at 220,000 variables on the loaded 2-core machine.
    overrun = OVERRUN_S_PER_VARIABLE * model.n_variables
    # Each order's regret against its own lower bound (no LP): what the search uses
    # until the LP gives each order its share.
    own_floor = order_lower_bounds(problem) - np.bincount(
        problem.line_order, weights=problem.line_qty * problem.order_penalty[
            problem.line_order], minlength=problem.n_orders)
    threads = min(2, max(1, workers))

    def search_until_deadline(values, cost):
        found = lns.improve(problem, model, values, cost, own_floor, deadline=deadline,
                            seed=seed, threads=threads)
        if found.objective < cost - 1e-9:
            return model.decode(found.values), found.objective
        return None, cost

    if (lp_seconds_estimate(model.n_variables)
            > LP_SHARE_MAX * (deadline - overrun - time.perf_counter())):
        # No time for the LP: search from the plan in hand; the bound stays the caller's.
        found, objective = search_until_deadline(model.encode(best_alloc), objective)
        return result(found if found is not None else best_alloc, None, False)
    deadline -= overrun
    # The LP's time is an estimate, and a slower or busier machine than the one it was
    # measured on can take twice as long. With two workers the search runs from the plan
    # in hand beside the LP, so that a late LP does not leave the caller with greedy, and a
    # timely one hands the steps below a better plan.
    # When the LP may not fit, a weaker bound that takes a fraction of its time is
    # computed first (on the search's thread), so a late LP still leaves a proven gap.
    early = lns.SharedPlan(model, model.encode(best_alloc), objective)
    stop = threading.Event()
    fallback = []
    lp_may_not_fit = (lp_seconds_estimate(model.n_variables)
                      > LP_SURE_SHARE * (deadline - time.perf_counter()))

    def fallback_bound():
        relaxation = averaged_relaxation(model)
        if relaxation is None:
            return
        relaxed = highs_solve(SimpleNamespace(arrays=relaxation[0], offset=model.offset),
                              time_limit_s=deadline - time.perf_counter(), relax=True,
                              workers=1, seed=seed)
        if relaxed.values is not None and relaxed.optimal:
            fallback.append(relaxed.objective)

    def beside_lp():
        if lp_may_not_fit:
            fallback_bound()
        lns.search(problem, early, own_floor, deadline=deadline, seed=seed + 104_729,
                   stop=stop)

    beside = None
    if workers >= 2:
        beside = threading.Thread(target=beside_lp)
        beside.start()
    lp_start = time.perf_counter()
    try:
        # with one worker nothing runs beside the LP: a quarter of the time is kept for
        # the search in case it does not finish
        lp = lp_relaxation(model, time_limit_s=(deadline - lp_start) * (
            1.0 if beside else 1.0 - LP_SURE_SHARE), **{**options,
                                                         "workers": 1 if beside else workers})
    finally:
        stop.set()
        if beside is not None:
            beside.join()
    lp_seconds = time.perf_counter() - lp_start
    # The full MIP's root solves the whole model's LP, 3-5 times slower than the reduced
    # one (2.9 s against 0.9 s at 28,619 variables, 55 s against 10.7 s at 220,256).
    root_seconds = lp_seconds * max(3.0, model.n_variables / 45_000)
    if early.objective < objective - 1e-9:
        best_alloc, objective = model.decode(early.values), early.objective
    if lp.values is None or not lp.optimal:
        # The LP did not finish: the search goes on for whatever time is left.
        if deadline - time.perf_counter() > 0.1:
            found, objective = search_until_deadline(model.encode(best_alloc), objective)
            if found is not None:
                best_alloc = found
        return result(best_alloc, max(fallback) if fallback else None, False)
    bound = lp.objective
    ind = model.indicator_vars
    score = np.zeros(len(problem.pair_node))
    score[model.indicator_pairs] = lp.values[ind]
    guided = greedy_allocation(problem, score)
    guided_cost = allocation_cost(problem, guided).total
    if guided_cost < objective:
        best_alloc, objective = guided, guided_cost
    left = deadline - time.perf_counter()
    # The full MIP needs at least the LP's time to get through its root (no better bound
    # before that), so it only runs when that much is left after the restricted MIP.
    full_after = left >= 2 * root_seconds
    if left > 0.3:
        values = lp.values[ind]
        settled = np.abs(values - np.round(values)) <= 1e-6
        lower = model.arrays["lower"].copy()
        upper = model.arrays["upper"].copy()
        lower[ind[settled]] = upper[ind[settled]] = np.round(values[settled])
        start_values = model.encode(best_alloc)
        if np.any(start_values[ind[settled]] != np.round(values[settled])):
            start_values = None   # the plan in hand is outside the restricted model
        restricted = highs_solve(model, time_limit_s=left * RESTRICTED_SHARE,
                                 start=start_values, lower=lower, upper=upper, **options)
        if restricted.values is not None and restricted.objective < objective - 1e-9:
            best_alloc, objective = model.decode(restricted.values), restricted.objective
    left = deadline - time.perf_counter()
    if left <= 0.1:
        return result(best_alloc, bound, objective - bound <= relative_gap * max(1.0, objective))
    # From here the plan in hand lives in ``shared``: the search threads and the full MIP
    # all hand their improvements to it.
    lp_floor = np.bincount(model.var_order, weights=model.cost * lp.values,
                           minlength=problem.n_orders)
    shared = lns.SharedPlan(model, model.encode(best_alloc), objective)
    bounds = [bound]

    def search(until: float, worker: int = 0) -> None:
        lns.search(problem, shared, lp_floor, deadline=until, seed=seed + 7919 * worker)

    def full_into_shared(until: float) -> None:
        # One HiGHS thread: it runs beside a search thread, or alone with workers=1.
        # HiGHS notices its limit only between rounds of root cuts, which beside a search
        # thread overran it by up to 2.5 s at 28,619 variables: at ``until`` (plus a
        # little) the bound so far is taken and HiGHS is told to stop, without waiting.
        progress: dict = {}
        outcome: list = []
        start_values = shared.snapshot()[0]

        def run() -> None:
            outcome.append(highs_solve(model, time_limit_s=until - time.perf_counter(),
                                       start=start_values, progress=progress,
                                       **{**options, "workers": 1}))

        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        runner.join(max(0.0, until - time.perf_counter()) + FULL_GRACE_S)
        if outcome:
            full = outcome[0]
            if full.bound is not None:
                bounds.append(full.bound)
            if full.values is not None:
                shared.offer(full.values, full.objective)
        else:
            progress["stop"] = True
            if progress.get("bound") is not None:
                bounds.append(progress["bound"])

    full_after = full_after and left >= root_seconds
    if not full_after:
        searches = max(1, min(2, workers))
        lns.run_parallel([lambda i=i: search(deadline, i) for i in range(searches)])
    elif workers >= 2:
        # Each thread gets its own HiGHS scheduler (HiGHS keeps one per calling thread),
        # with one thread each: two solves on the two cores. The full MIP's bound gains
        # little after its root (2,000 orders: 89,092 at 8 s, 89,105 after 240 s), so after
        # its share of the time its thread joins the search.
        full_until = time.perf_counter() + min(left, max(FULL_SHARE * left,
                                                         4 * root_seconds))
        lns.run_parallel([lambda: (full_into_shared(full_until), search(deadline, 1)),
                          lambda: search(deadline, 0)])
    else:
        search(time.perf_counter() + left / 2)
        full_into_shared(deadline - FULL_GRACE_S)
    bound = max(bounds)
    if shared.objective < objective - 1e-9:
        best_alloc, objective = model.decode(shared.values), shared.objective
    proven = objective - bound <= relative_gap * max(1.0, abs(objective))
    return result(best_alloc, bound, proven)


# --- HiGHS driven directly (its C API) ---------------------------------------------------
# Unlike OR-Tools' model-builder wrapper, HiGHS's own API returns the incumbent and the
# dual bound (LP plus root cuts and branching) when it stops on the time limit, and takes
# a starting solution. highspy would give the same, but it cannot share a process with
# OR-Tools: both ship a libhighs.so.1 (1.15 and 1.12), and whichever loads first breaks
# the other's import. So the C API of the HiGHS library OR-Tools ships is called through
# ctypes.

import ctypes
import os

_lib = None
_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p,
                             ctypes.c_void_p, ctypes.c_void_p)
_CALLBACK_MIP_INTERRUPT = 6   # HiGHS 1.12's kCallbackMipInterrupt
_HIGHS_MODEL_OPTIMAL = 7
_HIGHS_ERROR = -1
_HIGHS_SOLUTION_FEASIBLE = 2


def _highs():
    global _lib
    if _lib is None:
        import ortools
        path = os.path.join(os.path.dirname(ortools.__file__), ".libs", "libhighs.so.1")
        lib = ctypes.CDLL(path)
        vp, i32, dbl, cs = ctypes.c_void_p, ctypes.c_int32, ctypes.c_double, ctypes.c_char_p
        ptr_d, ptr_i = ctypes.POINTER(dbl), ctypes.POINTER(i32)
        if lib.Highs_getSizeofHighsInt(None) != 4:
            raise RuntimeError("HiGHS built with 64-bit HighsInt is not supported")
        lib.Highs_create.restype = vp
        lib.Highs_destroy.argtypes = [vp]
        lib.Highs_setBoolOptionValue.argtypes = [vp, cs, i32]
        lib.Highs_setIntOptionValue.argtypes = [vp, cs, i32]
        lib.Highs_setDoubleOptionValue.argtypes = [vp, cs, dbl]
        lib.Highs_setStringOptionValue.argtypes = [vp, cs, cs]
        lib.Highs_passMip.argtypes = [vp, i32, i32, i32, i32, i32, dbl, ptr_d, ptr_d, ptr_d,
                                      ptr_d, ptr_d, ptr_i, ptr_i, ptr_d, ptr_i]
        lib.Highs_setSolution.argtypes = [vp, ptr_d, ptr_d, ptr_d, ptr_d]
        lib.Highs_setSparseSolution.argtypes = [vp, i32, ptr_i, ptr_d]
        lib.Highs_run.argtypes = [vp]
        lib.Highs_getModelStatus.argtypes = [vp]
        lib.Highs_getDoubleInfoValue.argtypes = [vp, cs, ptr_d]
        lib.Highs_getIntInfoValue.argtypes = [vp, cs, ptr_i]
        lib.Highs_getSolution.argtypes = [vp, ptr_d, ptr_d, ptr_d, ptr_d]
        lib.Highs_resetGlobalScheduler.argtypes = [i32]
        lib.Highs_getCallbackDataOutItem.restype = vp
        lib.Highs_getCallbackDataOutItem.argtypes = [vp, cs]
        lib.Highs_setCallback.argtypes = [vp, _CALLBACK, vp]
        lib.Highs_startCallback.argtypes = [vp, i32]
        _lib = lib
    return _lib


def _ptr(array: np.ndarray, ctype):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _set_options(h, *, threads: int, seed: int, time_limit_s: float, options: dict) -> None:
    lib = _highs()
    lib.Highs_setBoolOptionValue(h, b"output_flag", 0)
    lib.Highs_setIntOptionValue(h, b"threads", int(threads))
    lib.Highs_setIntOptionValue(h, b"random_seed", int(seed))
    lib.Highs_setDoubleOptionValue(h, b"time_limit", max(0.01, float(time_limit_s)))
    for name, val in options.items():
        if isinstance(val, str):
            lib.Highs_setStringOptionValue(h, name.encode(), val.encode())
        elif isinstance(val, bool):
            lib.Highs_setBoolOptionValue(h, name.encode(), int(val))
        elif isinstance(val, int):
            lib.Highs_setIntOptionValue(h, name.encode(), val)
        else:
            lib.Highs_setDoubleOptionValue(h, name.encode(), float(val))


def feasible(a: dict, values: np.ndarray, rows: np.ndarray | None = None) -> bool:
    """Whether solver values satisfy the arrays' column bounds, integrality and rows
    (``rows``: the row of each nonzero, when the caller has it at hand)."""
    if len(values) != len(a["cost"]):
        return False
    tol = 1e-6
    if np.any(values < a["lower"] - tol) or np.any(values > a["upper"] + tol):
        return False
    integral = a["integrality"] == 1
    if np.any(np.abs(values[integral] - np.rint(values[integral])) > tol):
        return False
    if rows is None:
        rows = np.repeat(np.arange(len(a["row_lower"])), np.diff(a["start"]))
    activity = np.bincount(rows, weights=a["value"] * values[a["index"]],
                           minlength=len(a["row_lower"]))
    return bool(np.all(activity <= a["row_upper"] + tol)
                and np.all(activity >= a["row_lower"] - tol))


def _pass_model(h, a: dict, offset: float, start: np.ndarray | None,
                repair: bool = True) -> None:
    """The MIP (CSR arrays) and, when given, a starting solution (solver values).

    A feasible start is given whole. Any other is given by its nonzeros, which HiGHS
    completes by a MIP of its own with them fixed (``repair``), or left out: that MIP's
    dual bound reaches the callbacks as if it were the model's, and it is no bound of the
    model at all, so runs that read bounds from callbacks leave it out."""
    lib = _highs()
    dbl, i32 = ctypes.c_double, ctypes.c_int32
    status = lib.Highs_passMip(
        h, len(a["cost"]), len(a["row_lower"]), len(a["value"]), 2, 1, float(offset),
        _ptr(a["cost"], dbl), _ptr(a["lower"], dbl), _ptr(a["upper"], dbl),
        _ptr(a["row_lower"], dbl), _ptr(a["row_upper"], dbl), _ptr(a["start"], i32),
        _ptr(a["index"], i32), _ptr(a["value"], dbl), _ptr(a["integrality"], i32))
    if status < 0:
        raise RuntimeError("HiGHS rejected the model")
    if start is not None:
        values = np.ascontiguousarray(start, dtype=np.float64)
        if feasible(a, values):
            lib.Highs_setSolution(h, _ptr(values, dbl), None, None, None)
        elif repair:
            nz = np.flatnonzero(values).astype(np.int32)
            vals = np.ascontiguousarray(values[nz])
            lib.Highs_setSparseSolution(h, len(nz), _ptr(nz, i32), _ptr(vals, dbl))


@dataclass
class HighsResult:
    values: np.ndarray | None   # the incumbent, or None
    objective: float            # its cost (inf without one)
    bound: float | None         # HiGHS's proven dual bound (None if it proved nothing)
    optimal: bool               # HiGHS proved the incumbent optimal (to the gap asked)


def highs_solve(model: Model, *, time_limit_s: float, workers: int, seed: int,
                relative_gap: float = 1e-4, start: np.ndarray | None = None,
                options: dict | None = None, lower: np.ndarray | None = None,
                upper: np.ndarray | None = None, relax: bool = False,
                progress: dict | None = None) -> HighsResult:
    """The full MIP with HiGHS for at most ``time_limit_s``, from ``start`` (solver values)
    when given: the incumbent (if any) and HiGHS's dual bound, also on a time limit.

    ``progress`` (a MIP): HiGHS writes its dual bound there as ``"bound"`` each time it
    checks its limits, and stops at the next check once ``"stop"`` is set in it, so a
    caller can take the bound so far without waiting for HiGHS to notice its limit."""
    lib = _highs()
    threads = max(1, int(workers))
    a = dict(model.arrays)
    if lower is not None:
        a["lower"] = np.ascontiguousarray(lower, dtype=np.float64)
    if upper is not None:
        a["upper"] = np.ascontiguousarray(upper, dtype=np.float64)
    if relax:
        a["integrality"] = np.zeros_like(a["integrality"])
    n_col, n_row = len(a["cost"]), len(a["row_lower"])
    h = lib.Highs_create()
    try:
        _set_options(h, threads=threads, seed=seed, time_limit_s=time_limit_s,
                     options={"mip_rel_gap": float(relative_gap), **(options or {})})
        _pass_model(h, a, float(model.offset), start, repair=progress is None)
        dbl = ctypes.c_double
        if progress is not None and not relax:
            def on_check(kind, _message, data_out, data_in, _user):
                if kind != _CALLBACK_MIP_INTERRUPT:
                    return
                item = lib.Highs_getCallbackDataOutItem(data_out, b"mip_dual_bound")
                value = ctypes.cast(item, ctypes.POINTER(ctypes.c_double))[0]
                if np.isfinite(value):
                    progress["bound"] = float(value)
                if progress.get("stop"):
                    # user_interrupt is the first field of HighsCallbackDataIn
                    ctypes.cast(data_in, ctypes.POINTER(ctypes.c_int))[0] = 1

            handler = _CALLBACK(on_check)   # kept alive until the run returns
            lib.Highs_setCallback(h, handler, None)
            lib.Highs_startCallback(h, _CALLBACK_MIP_INTERRUPT)
        if lib.Highs_run(h) == _HIGHS_ERROR:
            # HiGHS keeps the thread pool of its first run in the process (whoever made
            # it: OR-Tools' wrappers share this library) and refuses another thread
            # count; reset the pool and run again.
            lib.Highs_resetGlobalScheduler(1)
            lib.Highs_run(h)
        model_status = lib.Highs_getModelStatus(h)
        primal = ctypes.c_int32(0)
        lib.Highs_getIntInfoValue(h, b"primal_solution_status", ctypes.byref(primal))
        objective, bound = ctypes.c_double(np.inf), ctypes.c_double(-np.inf)
        lib.Highs_getDoubleInfoValue(h, b"mip_dual_bound", ctypes.byref(bound))
        values = None
        if primal.value == _HIGHS_SOLUTION_FEASIBLE:
            lib.Highs_getDoubleInfoValue(h, b"objective_function_value",
                                         ctypes.byref(objective))
            values = np.zeros(n_col)
            col_dual = np.zeros(n_col)
            row_value, row_dual = np.zeros(n_row), np.zeros(n_row)
            lib.Highs_getSolution(h, _ptr(values, dbl), _ptr(col_dual, dbl),
                                  _ptr(row_value, dbl), _ptr(row_dual, dbl))
    finally:
        lib.Highs_destroy(h)
    b_val = float(bound.value)
    return HighsResult(values, float(objective.value) if values is not None else float("inf"),
                       b_val if np.isfinite(b_val) else None,
                       values is not None and model_status == _HIGHS_MODEL_OPTIMAL)
