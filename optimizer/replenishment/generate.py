"""Seeded realistic replenishment problems for tests and the benchmark.

Skewed (log-normal) demand rates, a yearly seasonal wave and promotion spikes, several
suppliers with different lead times, MOQs and case packs, supplier capacity set to bind
(a fraction of the mean demand it serves), receiving capacity per node.
"""

from __future__ import annotations

import numpy as np


def generate_problem(n_skus: int, n_nodes: int, periods: int = 13, n_suppliers: int = 3, *,
                     seed: int = 0, capacity_tightness: float = 1.1, budget: float | None = None,
                     time_limit_seconds: float = 30.0) -> dict:
    rng = np.random.default_rng(seed)
    skus, items, positions, demand = [], [], [], []
    nodes = [{"id": f"N{n}", "receiving_capacity": None} for n in range(n_nodes)]
    suppliers = [{"id": f"SUP{u}", "lead_time_periods": int(rng.integers(1, 4)),
                  "capacity_units": None,
                  "fixed_order_cost": float(round(rng.uniform(40, 150), 2))}
                 for u in range(n_suppliers)]
    served = np.zeros(n_suppliers)
    node_load = np.zeros(n_nodes)
    phase = rng.uniform(0, 2 * np.pi)
    for s in range(n_skus):
        sku = f"SKU{s:05d}"
        cost = float(round(rng.lognormal(2.0, 0.6), 2))
        case_pack = int(rng.choice([1, 6, 12, 24]))
        skus.append({"sku": sku, "holding_cost": round(0.004 * cost, 4),
                     "backlog_cost": round(0.3 * cost, 4), "case_pack": case_pack,
                     "volume": 1.0})
        rate = rng.lognormal(2.5, 1.1)      # skewed: a few fast movers, a long tail
        season = 1 + 0.3 * np.sin(phase + 2 * np.pi * np.arange(periods) / 52 * 4)
        promo = np.ones(periods)
        if rng.random() < 0.2:
            w = int(rng.integers(0, periods))
            promo[w] = rng.uniform(1.5, 3.0)
        main = int(rng.integers(0, n_suppliers))
        sellers = [main] + ([int(rng.integers(0, n_suppliers))] if rng.random() < 0.3 else [])
        for k, u in enumerate(dict.fromkeys(sellers)):
            moq = int(case_pack * rng.choice([1, 2, 4])) if rng.random() < 0.6 else 0
            items.append({"supplier": f"SUP{u}", "sku": sku,
                          "unit_cost": round(cost * (1.0 if k == 0 else 1.08), 2), "moq": moq})
        for n in range(n_nodes):
            share = rng.uniform(0.3, 1.0)
            mean = rate * share * season * promo
            qty = rng.poisson(mean)
            served[main] += qty.mean()
            node_load[n] += qty.mean()
            for t in range(periods):
                if qty[t]:
                    demand.append({"sku": sku, "node": f"N{n}", "period": t, "qty": int(qty[t])})
            ss = int(round(1.0 * np.sqrt(mean.mean() * 2)))
            on_hand = int(rng.integers(0, int(mean.mean() * 3) + 2))
            inbound = ([{"period": int(rng.integers(0, 3)),
                         "qty": int(case_pack * rng.integers(1, 5))}]
                       if rng.random() < 0.3 else [])
            positions.append({"sku": sku, "node": f"N{n}", "on_hand": on_hand,
                              "safety_stock": ss, "inbound": inbound})
    for u in range(n_suppliers):
        suppliers[u]["capacity_units"] = int(max(24, served[u] * capacity_tightness))
    for n in range(n_nodes):
        nodes[n]["receiving_capacity"] = int(max(48, node_load[n] * 2.0))
    return {"periods": periods, "period_days": 7, "skus": skus, "nodes": nodes,
            "positions": positions, "demand": demand, "suppliers": suppliers,
            "supplier_items": items,
            "policy": {"safety_stock_penalty": 0.5, "budget": budget,
                       "time_limit_seconds": time_limit_seconds}}
