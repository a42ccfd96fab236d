"""Lagrangian relaxation of the rows that couple SKUs: a bound that sees capacity, and plans.

Relaxed: supplier capacity per (supplier, order period) with multipliers ``lam[u, t] ≥ 0``,
receiving capacity per (node, arrival period) with ``mu[n, a] ≥ 0`` and the budget with
``nu ≥ 0``, all moved into the objective; dropped: fixed order costs (≥ 0) and MOQs. What is
left separates per (SKU, node): choose cumulative arrivals ``R_t`` — non-decreasing,
multiples of the case pack, ``R_{-1} = 0`` — paying per unit arriving in ``a`` the cheapest
priced item ``min_i (1 + nu)·unit_i + lam[u_i, a − L_i] + mu[n, a]`` plus the exact
holding / backlog / safety cost ``f_t(base_t + R_t)``. That subproblem is solved exactly
by a DP over candidate values of ``R``: between two breakpoints of the ``f_t`` (``−base_t``,
``ss − base_t``) every term is linear in a run of equal ``R`` values, so some optimum takes
only the case-pack multiples just below and above a breakpoint (or 0). Hence, for ANY
multipliers ≥ 0,

    L(lam, mu, nu) = Σ_(s,n) DP_(s,n) − Σ lam·cap − Σ mu·recv − nu·budget

is a proven lower bound on the optimum (weak duality); the multipliers are improved by a
projected subgradient method (Polyak steps towards the best plan's cost), and the best
value seen is returned (``lagrangian_bound``).

Second stage (``refine``, ``share_subgradient``), at the best multipliers: each fixed cost
F per (supplier, node, period) is split into shares ``π ≥ 0`` per item with ``Σ π ≤ F``
(valid since ``Σ π·y ≤ F·z`` when every ``y ≤ z``), each order pays its item's share, and
the MOQs are enforced exactly on pairs with few case-pack levels (a DP over all levels);
the subproblems stay exact, so every value is again a proven bound. The shares are improved
by projected subgradient. At every stage the subproblems' orders, repaired to the MOQs,
capacities and budget (``repair_plan``), are candidate plans.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .plan import Order
from .presolve import OrderOptions, order_options
from .problem import ReplenishmentProblem

SAFETY = 1e-9      # relative margin taken off the bound for floating-point summation
THETA0 = 0.25      # first Polyak step factor, halved after PATIENCE iterations without gain
PATIENCE = 5


CACHE_ELEMENTS = 25_000_000   # f_t at the candidates kept in memory up to this many values
BLOCK_ELEMENTS = 4_000_000    # (pairs x periods x levels) per block of the DPs


@dataclass
class Relaxation:
    """The per-(SKU, node) data of the relaxed problem, pairs flattened as p = s·N + n."""

    P: int
    T: int
    base: np.ndarray        # [P, T] inventory with no planned arrivals
    cand: np.ndarray        # [P, C] sorted candidate cumulative arrivals
    sku: np.ndarray         # [P]
    node: np.ndarray        # [P]
    h: np.ndarray           # [P]
    b: np.ndarray           # [P]
    ss: np.ndarray          # [P]
    pen: float
    cache: np.ndarray | None = None   # [P, T, C] f_t(base_t + cand) when small enough
    options: OrderOptions | None = None   # the order options the presolve keeps

    def f(self, rows, levels=None) -> np.ndarray:
        """f_t(base_t + level) [rows, T, levels] (levels default: the candidates)."""
        if levels is None:
            if self.cache is not None:
                return self.cache[rows]
            levels = self.cand[rows]
        inv = self.base[rows][:, :, None] + levels[:, None, :]
        pos = np.maximum(inv, 0)
        return self.h[rows, None, None] * pos + self.b[rows, None, None] * np.maximum(-inv, 0) \
            + self.pen * np.maximum(self.ss[rows, None, None] - pos, 0)

    def blocks(self, per_row: int):
        step = max(1, BLOCK_ELEMENTS // max(1, per_row))
        for k in range(0, self.P, step):
            yield slice(k, min(self.P, k + step))


def relaxation(p: ReplenishmentProblem) -> Relaxation:
    S, N, T = p.shape
    P = S * N
    base = (p.on_hand[:, :, None] + np.cumsum(p.inbound - p.demand, axis=2)).reshape(P, T)
    base = base.astype(float)
    ss = p.safety_stock.reshape(P).astype(float)
    cp = np.repeat(p.case_pack.astype(float), N)[:, None]
    bp = np.concatenate([-base, ss[:, None] - base], axis=1)
    cand = np.concatenate([np.zeros((P, 1)), cp * np.floor(bp / cp), cp * np.ceil(bp / cp)],
                          axis=1)
    cand = np.sort(np.maximum(cand, 0.0), axis=1)
    r = Relaxation(P, T, base, cand, np.repeat(np.arange(S), N), np.tile(np.arange(N), S),
                   np.repeat(p.holding_cost, N), np.repeat(p.backlog_cost, N), ss,
                   float(p.safety_stock_penalty), options=order_options(p))
    if P * T * cand.shape[1] <= CACHE_ELEMENTS:
        r.cache = r.f(slice(None))
    return r


def _arrival_prices(p: ReplenishmentProblem, r: Relaxation, lam, mu, nu):
    """Cheapest priced cost per unit arriving [P, T] and the item giving it [P, T] (−1 =
    none), over the order options the presolve keeps (``r.options``)."""
    S, N, T = p.shape
    I = len(p.item_sku)
    L = p.lead_time[p.item_supplier]
    price = np.full((I, T), np.inf)
    for i in range(I):
        li = int(L[i])
        if li < T:
            price[i, li:] = (1 + nu) * p.item_unit_cost[i] + lam[p.item_supplier[i], :T - li]
    opts = r.options if r.options is not None else order_options(p)
    price = np.where(opts.by_arrival(), price, np.inf)
    if not opts.receiving_binds:
        best, item = _cheapest(p, price)
        return (best[:, None, :] + mu[None, :, :]).reshape(r.P, T), item[r.sku]
    # receiving capacity removes options at some nodes only: the cheapest item per node
    best = np.empty((S, N, T))
    item = np.empty((S, N, T), dtype=np.int64)
    for n in range(N):
        b_n, item[:, n, :] = _cheapest(p, np.where(opts.receiving_ok(n), price, np.inf))
        best[:, n, :] = b_n + mu[n][None, :]
    return best.reshape(r.P, T), item.reshape(r.P, T)


def _cheapest(p: ReplenishmentProblem, price):
    """Per [S, T]: the lowest of the items' prices [I, T] and the item giving it (−1)."""
    S, T = len(p.sku_ids), price.shape[1]
    best = np.full((S, T), np.inf)
    np.minimum.at(best, p.item_sku, price)
    item = np.full((S, T), -1, dtype=np.int64)
    hit = price <= best[p.item_sku] + 0.0
    hit &= np.isfinite(price)
    for i in np.flatnonzero(hit.any(axis=1))[::-1]:      # lowest index wins ties
        item[p.item_sku[i], hit[i]] = i
    return best, item


def solve_relaxed(p: ReplenishmentProblem, r: Relaxation, lam, mu, nu, *, need_plan=True):
    """Exact minimum of each subproblem (cheapest priced item per arrival period, MOQs and
    fixed costs relaxed): (Σ values, arrivals [P, T] or None, item [P, T], values [P])."""
    S, N, T = p.shape
    price, item = _arrival_prices(p, r, lam, mu, nu)
    values = np.empty(r.P)
    arrivals = np.empty((r.P, T), dtype=np.int64) if need_plan else None
    for rows in r.blocks(T * r.cand.shape[1]):
        v, a = _solve_block(r.cand[rows], r.f(rows), price[rows], need_plan)
        values[rows] = v
        if need_plan:
            arrivals[rows] = a
    return float(values.sum()), arrivals, item, values


def _solve_block(cand, fcost, price, need_plan):
    P, C = cand.shape
    T = fcost.shape[1]
    V = np.where(np.arange(C)[None, :] == 0, 0.0, np.inf) * np.ones((P, 1))
    arg = np.empty((T, P, C), dtype=np.int16) if need_plan else None
    cols = np.arange(C, dtype=np.int16)[None, :]
    for t in range(T):
        c = price[:, t]
        ok = np.isfinite(c)
        cc = np.where(ok, c, 0.0)[:, None]
        W = V - cc * cand
        M = np.minimum.accumulate(W, axis=1)
        newV = np.where(ok[:, None], M + cc * cand, V)
        if need_plan:
            idx = np.where(W <= M, cols, 0)
            idx = np.maximum.accumulate(idx, axis=1)
            arg[t] = np.where(ok[:, None], idx, cols)
        V = newV + fcost[:, t, :]
    j = np.argmin(V, axis=1)
    rows = np.arange(P)
    values = V[rows, j]
    if not need_plan:
        return values, None
    R = np.empty((P, T))
    for t in range(T - 1, -1, -1):
        R[:, t] = cand[rows, j]
        j = arg[t][rows, j].astype(np.int64)
    return values, np.rint(np.diff(R, axis=1, prepend=0.0)).astype(np.int64)


def _usage(p: ReplenishmentProblem, r: Relaxation, arrivals, item):
    """Units per (supplier, order period), per (node, arrival period), and spend."""
    S, N, T = p.shape
    U = len(p.supplier_ids)
    sup = np.zeros((U, T))
    recv = np.zeros((N, T))
    it = item                                          # [P, T]
    has = arrivals > 0
    pp, tt = np.nonzero(has)
    ii = it[pp, tt]
    q = arrivals[pp, tt].astype(float)
    u = p.item_supplier[ii]
    np.add.at(sup, (u, tt - p.lead_time[u]), q)
    np.add.at(recv, (r.node[pp], tt), q)
    spend = float((p.item_unit_cost[ii] * q).sum())
    return sup, recv, spend


def capacities(p: ReplenishmentProblem):
    S, N, T = p.shape
    U = len(p.supplier_ids)
    sup = np.array([[p.supplier_cap(u, t) for t in range(T)] for u in range(U)], dtype=float)
    recv = np.array([[p.receiving_cap(n, t) for t in range(T)] for n in range(N)], dtype=float)
    return sup.reshape(U, T), recv.reshape(N, T)


@dataclass
class LagrangeResult:
    bound: float
    lam: np.ndarray
    mu: np.ndarray
    nu: float
    iterations: int
    seconds: float
    plan: list[Order] | None = None
    plan_cost: float = math.inf
    pair_values: np.ndarray | None = None    # [P] subproblem values at the best multipliers
    share: np.ndarray | None = None          # [I, N, T] best fixed-cost shares (None = none)


def lagrangian_bound(p: ReplenishmentProblem, *, upper: float, deadline: float,
                     max_iter: int = 300, plan_every: int = 0, plan_eval=None,
                     r: Relaxation | None = None) -> LagrangeResult:
    """Projected subgradient on the multipliers; the best L seen (a proven bound).

    ``upper`` is the cost of a known plan (Polyak target). With ``plan_every`` > 0 and
    ``plan_eval(orders) -> cost``, a plan is built from the subproblem's arrivals every that
    many iterations and the cheapest kept.
    """
    start = time.perf_counter()
    S, N, T = p.shape
    U = len(p.supplier_ids)
    r = r or relaxation(p)
    cap, recv = capacities(p)
    has_cap, has_recv = cap >= 0, recv >= 0
    cap0, recv0 = np.where(has_cap, cap, 0.0), np.where(has_recv, recv, 0.0)
    budget = p.budget
    lam, mu, nu = np.zeros((U, T)), np.zeros((N, T)), 0.0
    best = -math.inf
    best_mult = (lam.copy(), mu.copy(), nu)
    theta = THETA0
    since = 0
    it = 0
    plan, plan_value = None, math.inf
    pair_values = None
    while it < max_iter and (it == 0 or time.perf_counter() < deadline):   # at least one
        total, arrivals, item, values = solve_relaxed(p, r, lam, mu, nu)
        value = total - float((lam * cap0).sum()) - float((mu * recv0).sum()) \
            - (nu * budget if budget is not None else 0.0)
        it += 1
        improved = value > best + 1e-9 * abs(best if math.isfinite(best) else 1)
        if improved:
            best, since = value, 0
            best_mult = (lam.copy(), mu.copy(), nu)
            pair_values = values
        else:
            since += 1
            if since >= PATIENCE:
                theta, since = theta / 2, 0
        if plan_eval is not None and (it == 1 or (plan_every and it % plan_every == 0)):
            orders = repair_plan(p, r, arrivals, item, per_pair=True)
            c = plan_eval(orders)
            if c < plan_value:
                plan, plan_value = orders, c
                upper = min(upper, c)
        sup_use, recv_use, spend = _usage(p, r, arrivals, item)
        g_lam = np.where(has_cap, sup_use - cap0, 0.0)
        g_mu = np.where(has_recv, recv_use - recv0, 0.0)
        g_nu = (spend - budget) if budget is not None else 0.0
        # projected direction: no push below zero for a multiplier already at zero
        g_lam = np.where((lam <= 0) & (g_lam < 0), 0.0, g_lam)
        g_mu = np.where((mu <= 0) & (g_mu < 0), 0.0, g_mu)
        if nu <= 0 and g_nu < 0:
            g_nu = 0.0
        norm = float((g_lam ** 2).sum() + (g_mu ** 2).sum() + g_nu ** 2)
        if norm <= 1e-12:
            break          # the relaxed optimum is feasible for the coupling rows
        step = theta * max(upper - value, 1e-6 * abs(upper)) / norm
        lam = np.maximum(0.0, lam + step * g_lam)
        mu = np.maximum(0.0, mu + step * g_mu)
        nu = max(0.0, nu + step * g_nu)
        if theta < 1e-4:
            break
    if plan_eval is not None and it > 1:
        _, arrivals, item, _ = solve_relaxed(p, r, *best_mult)
        orders = repair_plan(p, r, arrivals, item, per_pair=True)
        c = plan_eval(orders)
        if c < plan_value:
            plan, plan_value = orders, c
    bound = best - SAFETY * abs(best)
    return LagrangeResult(bound, *best_mult, it, time.perf_counter() - start, plan, plan_value,
                          pair_values)


def lagrangian_value(p: ReplenishmentProblem, lam, mu, nu, r: Relaxation | None = None) -> float:
    """L at given multipliers (≥ 0): a proven lower bound."""
    r = r or relaxation(p)
    cap, recv = capacities(p)
    total, _, _, _ = solve_relaxed(p, r, lam, mu, nu, need_plan=False)
    value = total - float((lam * np.where(cap >= 0, cap, 0)).sum()) \
        - float((mu * np.where(recv >= 0, recv, 0)).sum()) \
        - (nu * p.budget if p.budget is not None else 0.0)
    return value - SAFETY * abs(value)


def repair_plan(p: ReplenishmentProblem, r: Relaxation, arrivals, item,
                per_pair: bool = False) -> list[Order]:
    """Orders from the relaxed arrivals: MOQs met by ordering the smallest legal quantity
    (the surplus covers later arrivals), then supplier / receiving capacity and budget
    enforced by moving an order to the latest earlier period with room (more holding),
    else the next later one, else cutting it (rounded down to case packs, dropped below
    the MOQ). Always a valid plan."""
    S, N, T = p.shape
    U = len(p.supplier_ids)
    cap, recv = capacities(p)
    sup_left = np.where(cap >= 0, cap, np.inf)
    recv_left = np.where(recv >= 0, recv, np.inf)
    budget_left = math.inf if p.budget is None else float(p.budget)
    wanted: list[tuple[float, int, int, int, int]] = []
    it_of = item if per_pair else item[r.sku]
    pp_list = np.flatnonzero((arrivals > 0).any(axis=1))
    for pp in pp_list:
        s, n = int(r.sku[pp]), int(r.node[pp])
        cp = int(p.case_pack[s])
        bought = 0
        need = 0
        for a in range(T):
            need += int(arrivals[pp, a])
            if need <= bought:
                continue
            i = int(it_of[pp, a])
            if i < 0:
                continue
            q = max(p.item_min_qty(i), cp * math.ceil((need - bought) / cp))
            bought += q
            urgency = float(p.backlog_cost[s])
            wanted.append((urgency, i, n, a - int(p.lead_time[p.item_supplier[i]]), q))
    # most expensive shortages first get the capacity they asked for
    wanted.sort(key=lambda w: -w[0])
    orders: list[Order] = []
    for _, i, n, t, q in wanted:
        u = int(p.item_supplier[i])
        L = int(p.lead_time[u])
        cp = int(p.case_pack[p.item_sku[i]])
        mq = p.item_min_qty(i)
        unit = float(p.item_unit_cost[i])
        tries = list(range(t, -1, -1)) + list(range(t + 1, T - L))
        for tt in tries:
            room = min(sup_left[u, tt], recv_left[n, tt + L],
                       budget_left / unit if unit > 0 else math.inf)
            qq = q if q <= room else cp * int(room // cp)
            if qq >= mq and qq > 0:
                orders.append(Order(i, n, tt, int(qq)))
                sup_left[u, tt] -= qq
                recv_left[n, tt + L] -= qq
                budget_left -= unit * qq
                q -= qq
                if q < mq:
                    break
    return _merge(orders)


def _merge(orders: list[Order]) -> list[Order]:
    acc: dict[tuple[int, int, int], int] = {}
    for o in orders:
        acc[(o.item, o.node, o.order_period)] = acc.get((o.item, o.node, o.order_period), 0) + o.qty
    return [Order(i, n, t, q) for (i, n, t), q in acc.items()]


# --- the subproblems with MOQs and shares of the fixed costs --------------------------------


def _options(p: ReplenishmentProblem):
    """[S, K] the supplier items of each SKU (−1 = none)."""
    items = p.items_of_sku()
    K = max(1, max((len(x) for x in items), default=1))
    out = np.full((len(items), K), -1, dtype=np.int64)
    for s, x in enumerate(items):
        out[s, :len(x)] = x
    return out


def _option_prices(p: ReplenishmentProblem, opt, lam, mu, nu, share,
                   options: OrderOptions | None = None):
    """Per option k: item [S], unit price [S, N, T] per arrival period (inf = unavailable,
    also where the presolve removed the order option), setup [S, N, T] (the fixed-cost share
    of the order period)."""
    S, N, T = p.shape
    if len(p.item_sku) == 0:   # no supplier items at all (e.g. no suppliers): nothing to order
        return [(opt[:, k], np.full((S, N, T), np.inf), np.zeros((S, N, T)))
                for k in range(opt.shape[1])]
    a = np.arange(T)
    options = options if options is not None else order_options(p)
    out = []
    for k in range(opt.shape[1]):
        i = opt[:, k]
        ii = np.maximum(i, 0)
        L = p.lead_time[p.item_supplier[ii]]
        u = p.item_supplier[ii]
        t = a[None, :] - L[:, None]                                 # [S, T] order period
        tc = np.clip(t, 0, T - 1)
        ok = (i[:, None] >= 0) & (t >= 0) & options.usable[ii[:, None], tc]      # [S, T]
        recv = options.recv[None, :, :]                                            # [1, N, T]
        ok = ok[:, None, :] & ((recv < 0) | (options.min_qty[ii][:, None, None] <= recv))
        price = (1 + nu) * p.item_unit_cost[ii][:, None] + lam[u[:, None], tc]
        price = price[:, None, :] + mu[None, :, :]
        price = np.where(ok, price, np.inf)
        if share is None:
            setup = np.zeros((S, N, T))
        else:
            setup = share[ii[:, None, None], np.arange(N)[None, :, None], tc[:, None, :]]
            setup = np.where(ok, setup, 0.0)
        out.append((i, price, setup))
    return out


def _dp(grid, fcost, options, shifts, need_plan):
    """min over non-decreasing paths on ``grid`` [P, C] (grid[:, 0] = 0 = start) of
    Σ_t [order cost] + fcost[:, t, j_t]. An order in t with option k goes from column j'
    to j ≥ j' + shifts[k] (per row), costing setup + price·(grid_j − grid_j').
    Returns values [P] and, with need_plan, (qty [P, T], option [P, T])."""
    P, C = grid.shape
    T = fcost.shape[1]
    cols = np.arange(C)[None, :]
    V = np.where(cols == 0, 0.0, np.inf) * np.ones((P, 1))
    if need_plan:
        choice = np.full((T, P, C), -1, dtype=np.int8)
        prev = np.empty((T, P, C), dtype=np.int32)
    for t in range(T):
        best = V.copy()
        if need_plan:
            ch = choice[t]
            pv = prev[t]
            pv[:] = cols
        for k, (price, setup) in enumerate(options):
            c = price[:, t]
            ok = np.isfinite(c)
            if not ok.any():
                continue
            cc = np.where(ok, c, 0.0)[:, None]
            W = V - cc * grid
            M = np.minimum.accumulate(W, axis=1)
            src = cols - shifts[k][:, None]
            srcc = np.maximum(src, 0)
            Mv = np.take_along_axis(M, srcc, axis=1)
            val = Mv + cc * grid + setup[:, t][:, None]
            val = np.where((src >= 0) & ok[:, None], val, np.inf)
            better = val < best
            best = np.where(better, val, best)
            if need_plan:
                idx = np.maximum.accumulate(np.where(W <= M, cols, 0), axis=1)
                arg = np.take_along_axis(idx, srcc, axis=1)
                ch[better] = k
                pv[better] = arg[better]
        V = best + fcost[:, t, :]
    j = np.argmin(V, axis=1)
    rows = np.arange(P)
    values = V[rows, j]
    if not need_plan:
        return values, None, None
    qty = np.zeros((P, T))
    opt = np.full((P, T), -1, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        k = choice[t][rows, j]
        jp = prev[t][rows, j]
        qty[:, t] = grid[rows, j] - grid[rows, jp]
        opt[:, t] = k
        j = jp
    return values, qty, opt


GRID_MAX = 400      # (SKU, node) pairs with at most this many case-pack levels get the MOQ DP


def refine(p: ReplenishmentProblem, r: Relaxation, lam, mu, nu, share=None, *,
           need_plan=True, grid_max: int = GRID_MAX):
    """Σ of exact subproblem values with fixed-cost shares (any share ≥ 0 whose sum over a
    (supplier, node, period) is ≤ its fixed cost keeps the bound valid), the MOQs kept
    exactly on pairs with at most ``grid_max`` case-pack levels (a DP over every multiple
    of the case pack up to the last useful level) and relaxed on the others.
    Returns (L value, qty [P, T], item [P, T] or None, values [P])."""
    S, N, T = p.shape
    opt = _options(p)
    priced = _option_prices(p, opt, lam, mu, nu, share, r.options)
    # candidate DP for every pair (MOQ relaxed): order ≥ one candidate step
    options = [(pr.reshape(r.P, T), st.reshape(r.P, T)) for _, pr, st in priced]
    values = np.empty(r.P)
    qty = np.empty((r.P, T)) if need_plan else None
    kk = np.empty((r.P, T), dtype=np.int64) if need_plan else None
    for rows in r.blocks(T * r.cand.shape[1] * 2):
        n_rows = len(range(r.P)[rows])
        one = np.ones(n_rows, dtype=np.int64)
        v, q, k_ = _dp(r.cand[rows], r.f(rows), [(o[rows], st[rows]) for o, st in options],
                       [one] * len(options), need_plan)
        values[rows] = v
        if need_plan:
            qty[rows], kk[rows] = q, k_
    item = None
    if need_plan:
        item_k = np.stack([np.repeat(i, N) for i, _, _ in priced], axis=1)   # [P, K]
        item = np.where(kk >= 0, np.take_along_axis(item_k, np.maximum(kk, 0), axis=1), -1)
    # MOQ-exact DP on a full case-pack grid for small pairs where some MOQ exceeds a case
    cp = np.repeat(p.case_pack, N)
    min_k = np.ones((S, opt.shape[1]), dtype=np.int64)
    for k in range(opt.shape[1]):
        for s in range(S):
            i = opt[s, k]
            if i >= 0:
                min_k[s, k] = p.item_min_qty(int(i)) // int(p.case_pack[s])
    min_k_p = np.repeat(min_k, N, axis=0)                                   # [P, K]
    top = r.cand[:, -1]
    levels = (top // cp).astype(np.int64) + min_k_p.max(axis=1) + 2
    sel = np.flatnonzero((min_k_p.max(axis=1) > 1) & (levels <= grid_max))
    if len(sel):
        for lo, hi in ((0, 32), (32, 96), (96, grid_max + 1)):
            bucket = sel[(levels[sel] > lo) & (levels[sel] <= hi)]
            if not len(bucket):
                continue
            C = int(levels[bucket].max())
            step = max(1, BLOCK_ELEMENTS // (2 * T * C))
            for k0 in range(0, len(bucket), step):
                _grid_block(p, r, bucket[k0:k0 + step], C, cp, options, min_k_p, values,
                            qty, item, item_k if need_plan else None, need_plan)
    cap, recv = capacities(p)
    value = float(values.sum()) - float((lam * np.where(cap >= 0, cap, 0)).sum()) \
        - float((mu * np.where(recv >= 0, recv, 0)).sum()) \
        - (nu * p.budget if p.budget is not None else 0.0)
    arrivals = np.rint(qty).astype(np.int64) if need_plan else None
    return value, arrivals, item, values


def _grid_block(p, r, rows, C, cp, options, min_k_p, values, qty, item, item_k, need_plan):
    """The MOQ-exact DP on every case-pack level for these pairs; updates in place."""
    grid = cp[rows, None] * np.arange(C)[None, :].astype(float)
    fc = r.f(rows, grid)
    opts = [(o[rows], st[rows]) for o, st in options]
    shifts = [min_k_p[rows, k] for k in range(len(options))]
    v, q, kk2 = _dp(grid, fc, opts, shifts, need_plan)
    better = v > values[rows]          # both exact minima of valid relaxations
    values[rows] = np.maximum(values[rows], v)
    if need_plan:
        rb = rows[better]
        qty[rb] = q[better]
        ik = item_k[rb]
        item[rb] = np.where(kk2[better] >= 0,
                            np.take_along_axis(ik, np.maximum(kk2[better], 0), axis=1), -1)


def fixed_cost_shares(p: ReplenishmentProblem, arrivals, item, r: Relaxation):
    """Shares [I, N, T] of each (supplier, node, order period)'s fixed cost among the items
    ordering there in a relaxed solution (equal split; sums never exceed the fixed cost)."""
    S, N, T = p.shape
    I = len(p.item_sku)
    share = np.zeros((I, N, T))
    pp, aa = np.nonzero((arrivals > 0) & (item >= 0))
    ii = item[pp, aa]
    tt = aa - p.lead_time[p.item_supplier[ii]]
    nn = r.node[pp]
    used = np.zeros((I, N, T), dtype=bool)
    used[ii, nn, tt] = True
    count = np.zeros((len(p.supplier_ids), N, T))
    np.add.at(count, (p.item_supplier[ii], nn, tt), 1.0)
    ui, un, ut = np.nonzero(used)
    share[ui, un, ut] = p.fixed_order_cost[p.item_supplier[ui]] / \
        count[p.item_supplier[ui], un, ut]
    return share


SHARE_ROUNDS = 3   # refinements with fixed-cost shares from the previous relaxed solution


def refined_bound(p: ReplenishmentProblem, lag: LagrangeResult, r: Relaxation, *,
                  deadline: float, plan_eval=None) -> LagrangeResult:
    """At the subgradient's best multipliers: the subproblems again with MOQs (small pairs)
    and fixed-cost shares, a few rounds (each round's shares from the previous relaxed
    solution); the best value is a proven bound; each round's relaxed orders, repaired,
    are candidate plans."""
    best, values_best = lag.bound, lag.pair_values
    plan, plan_value = lag.plan, lag.plan_cost
    share = None
    rounds = 0
    for k in range(SHARE_ROUNDS + 1):
        if time.perf_counter() >= deadline:
            break
        value, arrivals, item, values = refine(p, r, lag.lam, lag.mu, lag.nu, share)
        rounds += 1
        value -= SAFETY * abs(value)
        if value > best:
            best, values_best = value, values
        if plan_eval is not None and time.perf_counter() < deadline:
            orders = repair_plan(p, r, arrivals, item, per_pair=True)
            c = plan_eval(orders)
            if c < plan_value:
                plan, plan_value = orders, c
        share = fixed_cost_shares(p, arrivals, item, r)
    return LagrangeResult(best, lag.lam, lag.mu, lag.nu, lag.iterations + rounds,
                          lag.seconds, plan, plan_value, values_best)


def _project_shares(p: ReplenishmentProblem, share: np.ndarray) -> np.ndarray:
    """Each (supplier, node, period)'s shares onto {share ≥ 0, Σ ≤ fixed cost}."""
    share = np.maximum(share, 0.0)
    for u in range(len(p.supplier_ids)):
        items = np.flatnonzero(p.item_supplier == u)
        if not len(items):
            continue
        F = float(p.fixed_order_cost[u])
        y = share[items]                                     # [k, N, T]
        over = y.sum(axis=0) > F
        if not over.any():
            continue
        srt = -np.sort(-y, axis=0)
        cs = np.cumsum(srt, axis=0)
        j = np.arange(1, len(items) + 1)[:, None, None]
        cond = srt - (cs - F) / j > 0
        rho = len(items) - 1 - np.argmax(cond[::-1], axis=0)          # last true
        tau = (np.take_along_axis(cs, rho[None], axis=0)[0] - F) / (rho + 1)
        proj = np.maximum(y - tau[None], 0.0)
        share[items] = np.where(over[None], proj, y)
    return share


def share_subgradient(p: ReplenishmentProblem, lag: LagrangeResult, r: Relaxation, *,
                      deadline: float, upper: float, plan_eval=None,
                      plan_every: int = 10) -> LagrangeResult:
    """With the capacity multipliers fixed, projected subgradient on the fixed-cost shares
    (one per item, node and order period; per (supplier, node, period) ≥ 0 and summing to at
    most its fixed cost, so every iterate gives a proven bound), through the subproblems with
    MOQs (``refine``). Starts from the equal split of the first relaxed solution's slots."""
    S, N, T = p.shape
    best, values_best = lag.bound, lag.pair_values
    plan, plan_value = lag.plan, lag.plan_cost
    upper = min(upper, plan_value)
    share = None
    theta, since, it = THETA0, 0, 0
    best_share = None
    I = len(p.item_sku)
    while time.perf_counter() < deadline:
        value, arrivals, item, values = refine(p, r, lag.lam, lag.mu, lag.nu, share)
        value -= SAFETY * abs(value)
        it += 1
        if not math.isfinite(best) or value > best + 1e-9 * abs(best):
            best, values_best, since = value, values, 0
            best_share = share
        else:
            since += 1
            if since >= PATIENCE:
                theta, since = theta / 2, 0
        if plan_eval is not None and (it == 1 or it % plan_every == 0):
            orders = repair_plan(p, r, arrivals, item, per_pair=True)
            c = plan_eval(orders)
            if c < plan_value:
                plan, plan_value = orders, c
                upper = min(upper, c)
        if share is None:
            share = fixed_cost_shares(p, arrivals, item, r)
            continue
        g = np.zeros((I, N, T))
        pp, aa = np.nonzero((arrivals > 0) & (item >= 0))
        ii = item[pp, aa]
        g[ii, r.node[pp], aa - p.lead_time[p.item_supplier[ii]]] = 1.0
        # projected direction: what the projection would undo is left out of the norm
        norm = float((g ** 2).sum())
        if norm <= 0 or theta < 1e-4:
            break
        step = theta * max(upper - value, 1e-6 * abs(upper)) / norm
        share = _project_shares(p, share + step * g)
    return LagrangeResult(best, lag.lam, lag.mu, lag.nu, lag.iterations + it, lag.seconds,
                          plan, plan_value, values_best, best_share)
