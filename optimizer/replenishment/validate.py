"""Solver-independent plan checker: every rule of the contract, and the cost recomputed.

Works on the plan's JSON (or a ``ReplenishmentPlan``) with plain Python loops, sharing
nothing with the solvers but the parsed problem. Raises ``PlanInvalid`` listing every
violation found.
"""

from __future__ import annotations

from collections import defaultdict

from .problem import ReplenishmentProblem

TOLERANCE = 1e-6


class PlanInvalid(AssertionError):
    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__("plan violates the contract:\n" + "\n".join(violations[:50]))


def recompute_cost(problem: ReplenishmentProblem, orders: list[dict]) -> dict[str, float]:
    p = problem
    S, N, T = p.shape
    unit = {(p.supplier_ids[p.item_supplier[i]], p.sku_ids[p.item_sku[i]]): float(
        p.item_unit_cost[i]) for i in range(len(p.item_sku))}
    sku_ix = {s: k for k, s in enumerate(p.sku_ids)}
    node_ix = {n: k for k, n in enumerate(p.node_ids)}
    sup_ix = {u: k for k, u in enumerate(p.supplier_ids)}
    arrivals: dict[tuple[int, int, int], int] = defaultdict(int)
    purchase = 0.0
    slots = set()
    for o in orders:
        purchase += unit[(o["supplier"], o["sku"])] * o["qty"]
        u = sup_ix[o["supplier"]]
        slots.add((u, o["node"], o["order_period"]))
        arrivals[(sku_ix[o["sku"]], node_ix[o["node"]],
                  o["order_period"] + int(p.lead_time[u]))] += o["qty"]
    ordering = sum(float(p.fixed_order_cost[u]) for u, _, _ in slots)
    holding = backlog = safety = 0.0
    for s in range(S):
        h, b = float(p.holding_cost[s]), float(p.backlog_cost[s])
        for n in range(N):
            inv = int(p.on_hand[s, n])
            ss = int(p.safety_stock[s, n])
            for t in range(T):
                inv += int(p.inbound[s, n, t]) + arrivals.get((s, n, t), 0) - int(p.demand[s, n, t])
                holding += h * max(inv, 0)
                backlog += b * max(-inv, 0)
                safety += p.safety_stock_penalty * max(ss - max(inv, 0), 0)
    return {"purchase": purchase, "ordering": ordering, "holding": holding,
            "backlog": backlog, "safety": safety}


def validate_plan(problem: ReplenishmentProblem, plan) -> dict[str, float]:
    """Check all five rules and the reported cost; return the recomputed cost terms."""
    body = plan if isinstance(plan, dict) else plan.to_json()
    p = problem
    T = p.periods
    bad: list[str] = []
    item = {(p.supplier_ids[p.item_supplier[i]], p.sku_ids[p.item_sku[i]]): i
            for i in range(len(p.item_sku))}
    sup_ix = {u: k for k, u in enumerate(p.supplier_ids)}
    node_ix = {n: k for k, n in enumerate(p.node_ids)}
    by_supplier: dict[tuple[int, int], int] = defaultdict(int)
    by_node: dict[tuple[int, int], int] = defaultdict(int)
    spend = 0.0
    valid_orders = []
    for k, o in enumerate(body["orders"]):
        where = f"orders[{k}]"
        i = item.get((o["supplier"], o["sku"]))
        if i is None or o["node"] not in node_ix:
            bad.append(f"{where}: supplier {o['supplier']} does not sell {o['sku']} "
                       f"or node {o['node']} unknown")
            continue
        u = sup_ix[o["supplier"]]
        lead = int(p.lead_time[u])
        t, q = o["order_period"], o["qty"]
        if not (isinstance(q, int) and isinstance(t, int)):
            bad.append(f"{where}: qty and order_period must be integers")
            continue
        if t < 0 or t + lead > T - 1:
            bad.append(f"{where}: placed in period {t}, arrives {t + lead}, outside 0 … {T - 1} "
                       "(rule 1)")
        if o["arrival_period"] != t + lead:
            bad.append(f"{where}: arrival_period {o['arrival_period']} ≠ {t} + lead time {lead}")
        cp = int(p.case_pack[p.item_sku[i]])
        if q <= 0 or q % cp:
            bad.append(f"{where}: qty {q} is not a positive multiple of case pack {cp} (rule 2)")
        if q < int(p.item_moq[i]):
            bad.append(f"{where}: qty {q} below MOQ {int(p.item_moq[i])} (rule 2)")
        if abs(o["unit_cost"] - float(p.item_unit_cost[i])) > TOLERANCE:
            bad.append(f"{where}: unit_cost {o['unit_cost']} ≠ {float(p.item_unit_cost[i])}")
        by_supplier[(u, t)] += q
        by_node[(node_ix[o["node"]], t + lead)] += q
        spend += float(p.item_unit_cost[i]) * q
        valid_orders.append(o)
    for (u, t), q in sorted(by_supplier.items()):
        cap = int(p.supplier_capacity[u])
        if cap >= 0 and q > cap:
            bad.append(f"supplier {p.supplier_ids[u]} period {t}: {q} units > capacity {cap} "
                       "(rule 3)")
    for (n, t), q in sorted(by_node.items()):
        cap = int(p.receiving_capacity[n])
        if cap >= 0 and q > cap:
            bad.append(f"node {p.node_ids[n]} period {t}: {q} units arrive > receiving capacity "
                       f"{cap} (rule 4)")
    if p.budget is not None and spend > p.budget + TOLERANCE * max(1.0, p.budget):
        bad.append(f"spend {spend:.2f} > budget {p.budget:.2f} (rule 5)")
    if bad:
        raise PlanInvalid(bad)
    cost = recompute_cost(p, valid_orders)
    total = sum(cost.values())
    scale = max(1.0, abs(total))
    for term, value in cost.items():
        if abs(body["cost"][term] - value) > 1e-6 * scale:
            bad.append(f"cost.{term} {body['cost'][term]} ≠ recomputed {value}")
    if abs(body["objective"] - total) > 1e-6 * scale:
        bad.append(f"objective {body['objective']} ≠ recomputed {total}")
    if body["bound"] > body["objective"] + 1e-6 * scale:
        bad.append(f"bound {body['bound']} above objective {body['objective']}")
    S, N, _ = p.shape
    if len(body["projection"]) != S * N * T:
        bad.append(f"projection has {len(body['projection'])} rows, expected {S * N * T}")
    if body["status"] == "optimal" and body["gap"] > 1e-4:
        bad.append(f"status optimal with gap {body['gap']}")
    if bad:
        raise PlanInvalid(bad)
    return cost
