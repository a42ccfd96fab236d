"""Large problems: SKU chunks as the neighbourhoods of a search that improves a plan.

A model beyond ``FULL_MIP_MAX_VARIABLES`` is not given to a MIP solver whole (measured: at
500 SKUs x 4 nodes SCIP does not finish its root node in 30 s). Its first plan and its bound
come from the Lagrangian relaxation (``lagrange.py``); ``improve_by_chunks`` then re-solves
the MIP of a few SKUs at a time with every other SKU's orders fixed (on the capacity and
budget they leave, with the fixed costs of slots they already pay waived), keeping a
chunk's new orders only when the whole plan's cost does not rise: always valid, never worse.
(Before, the plan came from one pass of chunks each taking the capacity the earlier ones
left, warm-started from min/max: 0.94 of the min/max cost at 500 SKUs; see the docs.)
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .model import solve_mip
from .plan import Order, plan_cost
from .problem import ReplenishmentProblem

FULL_MIP_MAX_VARIABLES = 20_000   # measured: see docs/replenishment.md
CHUNK_VARIABLES = 1_000         # model variables per neighbourhood (estimated)
LNS_ENGINE = "HIGHS"   # measured at 500 SKUs, same time: 24 chunk MIPs, SCIP 10 (same gain)
CHUNK_SECONDS = 3.0             # most a neighbourhood's MIP may take


def restrict(p: ReplenishmentProblem, skus: np.ndarray, sup_left: np.ndarray,
             recv_left: np.ndarray, budget_left: float | None):
    """The sub-problem of these SKUs with the capacities left; returns it and the item map."""
    keep_items = np.flatnonzero(np.isin(p.item_sku, skus))
    new_index = {int(s): k for k, s in enumerate(skus)}
    sub = dataclasses.replace(
        p, sku_ids=tuple(p.sku_ids[s] for s in skus),
        holding_cost=p.holding_cost[skus], backlog_cost=p.backlog_cost[skus],
        case_pack=p.case_pack[skus], on_hand=p.on_hand[skus], safety_stock=p.safety_stock[skus],
        inbound=p.inbound[skus], demand=p.demand[skus],
        item_supplier=p.item_supplier[keep_items],
        item_sku=np.array([new_index[int(s)] for s in p.item_sku[keep_items]], dtype=np.int64),
        item_unit_cost=p.item_unit_cost[keep_items], item_moq=p.item_moq[keep_items],
        budget=budget_left, supplier_capacity_by_period=sup_left,
        receiving_capacity_by_period=recv_left)
    return sub, keep_items


def improve_by_chunks(p: ReplenishmentProblem, orders: list[Order], *, deadline: float,
                      workers: int, seed: int, priority: np.ndarray | None = None,
                      chunk_variables: int = CHUNK_VARIABLES, min_seconds: float = 0.3):
    """Large-neighbourhood search: SKUs in chunks (``priority`` high first, e.g. each SKU's
    cost above its Lagrangian subproblem value), each chunk's MIP re-solved with every other
    SKU's orders fixed — on the capacity and budget they leave, with the fixed costs of slots
    they already use waived — warm-started from the chunk's current orders; a chunk's new
    orders are kept when the whole plan's cost does not rise. Returns (orders, chunks tried,
    chunks improved)."""
    S, N, T = p.shape
    cur = list(orders)
    cur_cost = plan_cost(p, cur).total
    per_sku = max(1, int(N * T * 2.5 * max(1, len(p.item_sku)) / max(1, S)))
    chunk = max(1, chunk_variables // per_sku)
    rank = np.argsort(-priority if priority is not None else -p.demand.sum(axis=(1, 2)),
                      kind="stable")
    rng = np.random.default_rng(seed)
    tried = improved = 0
    passes = []
    # first pass by priority, later passes (while the last one gained) in seeded random order
    while time.perf_counter() < deadline - min_seconds:
        if passes and passes[-1] == improved:
            break
        passes.append(improved)
        order = rank if len(passes) == 1 else rng.permutation(S)
        chunks = [order[k:k + chunk] for k in range(0, S, chunk)]
        t_, i_, cur, cur_cost = _one_pass(p, cur, cur_cost, chunks, deadline=deadline,
                                          workers=workers, seed=seed, min_seconds=min_seconds)
        tried += t_
        improved += i_
    return cur, tried, improved


def _one_pass(p, cur, cur_cost, chunks, *, deadline, workers, seed, min_seconds):
    S, N, T = p.shape
    tried = improved = 0
    for skus in chunks:
        left = deadline - time.perf_counter()
        if left < min_seconds:
            break
        skus = np.sort(skus)
        in_chunk = np.zeros(S, dtype=bool)
        in_chunk[skus] = True
        mine = [o for o in cur if in_chunk[p.item_sku[o.item]]]
        others = [o for o in cur if not in_chunk[p.item_sku[o.item]]]
        sup_left = np.where(p.supplier_capacity[:, None] >= 0,
                            np.repeat(p.supplier_capacity[:, None], T, axis=1), -1).astype(np.int64)
        recv_left = np.where(p.receiving_capacity[:, None] >= 0,
                             np.repeat(p.receiving_capacity[:, None], T, axis=1),
                             -1).astype(np.int64)
        budget_left = p.budget
        fixed = np.repeat(np.repeat(p.fixed_order_cost[:, None, None], N, axis=1), T, axis=2)
        for o in others:
            u = int(p.item_supplier[o.item])
            if sup_left[u, o.order_period] >= 0:
                sup_left[u, o.order_period] -= o.qty
            a = o.order_period + int(p.lead_time[u])
            if recv_left[o.node, a] >= 0:
                recv_left[o.node, a] -= o.qty
            if budget_left is not None:
                budget_left -= float(p.item_unit_cost[o.item]) * o.qty
            fixed[u, o.node, o.order_period] = 0.0
        sub, items = restrict(p, skus, sup_left, recv_left, budget_left)
        sub = dataclasses.replace(sub, fixed_cost_by_slot=fixed)
        local = {int(i): k2 for k2, i in enumerate(items)}
        hint = [Order(local[o.item], o.node, o.order_period, o.qty) for o in mine]
        tried += 1
        mip = solve_mip(sub, time_limit_s=min(left, CHUNK_SECONDS),
                        workers=workers, seed=seed, hint=hint, relative_gap=1e-4,
                        engine=LNS_ENGINE)
        if mip.orders is None:
            continue
        new = others + [Order(int(items[o.item]), o.node, o.order_period, o.qty)
                        for o in mip.orders]
        c = plan_cost(p, new).total
        if c < cur_cost - 1e-9:
            cur, cur_cost = new, c
            improved += 1
    return tried, improved, cur, cur_cost
