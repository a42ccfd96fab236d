"""A lower bound that decomposes per (SKU, node), computed in numpy for any size.

Relaxation: drop supplier capacity, receiving capacity, budget, fixed order costs, MOQs and
case packs, and let every SKU buy at its cheapest unit cost with its shortest lead time. Each
(SKU, node) then chooses cumulative arrivals R_t (non-decreasing, 0 before the shortest lead
time) to minimise c·R_{T−1} + Σ_t f_t(base_t + R_t), with f_t the convex piecewise-linear
holding / backlog / safety cost. That is a network LP, so an optimal R takes values among
the breakpoints {0, −base_t, ss − base_t}; a DP over periods with a running minimum over the
sorted candidates solves all (SKU, node) pairs at once. Every plan of the real problem is a
plan of this relaxation with no smaller cost, so the sum is a proven lower bound.
Items keep only the order options the presolve keeps (``presolve.py``): an item's earliest
arrival is that of its first surviving option, and an item with none is left out.
"""

from __future__ import annotations

import numpy as np

from .presolve import order_options
from .problem import ReplenishmentProblem


def decoupled_bound(p: ReplenishmentProblem) -> float:
    S, N, T = p.shape
    base = p.on_hand[:, :, None] + np.cumsum(p.inbound - p.demand, axis=2)   # [S,N,T]
    ss = p.safety_stock[:, :, None].astype(float)
    h = p.holding_cost[:, None, None]
    b = p.backlog_cost[:, None, None]
    pen = p.safety_stock_penalty

    def f(inv):
        pos = np.maximum(inv, 0)
        return h * pos + b * np.maximum(-inv, 0) + pen * np.maximum(ss - pos, 0)

    cost = np.full(S, np.inf)
    lead = np.full(S, T, dtype=np.int64)
    first = order_options(p).first_arrival()        # T = no surviving option
    for i in range(len(p.item_sku)):
        s = int(p.item_sku[i])
        L = int(first[i])
        if L >= T:
            continue
        cost[s] = min(cost[s], float(p.item_unit_cost[i]))
        lead[s] = min(lead[s], L)
    fixed = f(base.astype(float))                       # cost with no planned arrivals
    total = 0.0
    for L in np.unique(lead):
        rows = np.flatnonzero(lead == L)
        if L >= T:
            total += float(fixed[rows].sum())
            continue
        total += float(fixed[rows, :, :L].sum())
        bs = base[rows].astype(float)                    # [s,N,T]
        cand = np.concatenate([np.zeros(bs.shape[:2] + (1,)), -bs[:, :, L:],
                               ss[rows] - bs[:, :, L:]], axis=2)
        cand = np.sort(np.maximum(cand, 0), axis=2)      # [s,N,C]
        value = np.zeros(cand.shape)
        for t in range(L, T):
            inv = bs[:, :, t:t + 1] + cand
            value = np.minimum.accumulate(value, axis=2) + f_rows(inv, h[rows], b[rows],
                                                                  ss[rows], pen)
        c = cost[rows][:, None, None]
        total += float((value + c * cand).min(axis=2).sum())
    return total


def f_rows(inv, h, b, ss, pen):
    pos = np.maximum(inv, 0)
    return h * pos + b * np.maximum(-inv, 0) + pen * np.maximum(ss - pos, 0)
