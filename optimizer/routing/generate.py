"""Seeded generator of realistic routing batches (benchmarks, tests, demos).

Skewed (Zipf-like) SKU popularity, 1–4 lines per order, some scarce SKUs,
capacity-limited nodes, several channels with node rules, express orders with
transit limits, some ship-complete (B2B) orders. Returns a contract document.
"""

from __future__ import annotations

import numpy as np

REGIONS = ("NE", "SE", "MW", "SW", "W", "NW", "CEN", "MA")
KINDS = ("warehouse", "warehouse", "3pl", "store", "dropship")


LINE_COUNT_WEIGHTS = {4: (0.5, 0.3, 0.15, 0.05), 5: (0.45, 0.27, 0.14, 0.09, 0.05)}


def generate_problem(n_orders: int, n_nodes: int, n_skus: int, *, seed: int = 0,
                     time_limit_s: float = 10.0, strategy: str = "optimal",
                     max_lines: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    region_xy = rng.uniform(0, 10, size=(len(REGIONS), 2))
    node_xy = rng.uniform(0, 10, size=(n_nodes, 2))
    popularity = 1.0 / np.arange(1, n_skus + 1) ** 0.9
    popularity /= popularity.sum()
    skus = [f"SKU-{i:05d}" for i in range(n_skus)]
    node_ids = [f"N{i:02d}" for i in range(n_nodes)]

    weights = LINE_COUNT_WEIGHTS[max_lines]
    n_lines = rng.choice(np.arange(1, max_lines + 1), size=n_orders, p=weights)
    expected_units = n_lines.sum() * 1.6
    nodes = []
    for i, node_id in enumerate(node_ids):
        limited = rng.random() < 0.4
        share = expected_units / n_nodes
        nodes.append({
            "id": node_id, "kind": KINDS[i % len(KINDS)],
            "capacity_units": int(share * rng.uniform(0.6, 1.2)) if limited else None,
            "capacity_orders": int(share / 1.6 * rng.uniform(0.6, 1.1)) if limited else None,
            "handling_cost_per_order": round(float(rng.uniform(0.8, 2.0)), 2),
            "handling_cost_per_unit": round(float(rng.uniform(0.05, 0.3)), 2),
        })
    lanes = []
    for i, node_id in enumerate(node_ids):
        for r, region in enumerate(REGIONS):
            dist = float(np.linalg.norm(node_xy[i] - region_xy[r]))
            days = 1 + int(dist // 3)
            lanes.append({"node": node_id, "region": region, "service": "standard",
                          "cost_per_shipment": round(4.0 + 0.6 * dist, 2),
                          "cost_per_unit": round(0.3 + 0.08 * dist, 2), "transit_days": days})
            if dist < 6:
                lanes.append({"node": node_id, "region": region, "service": "express",
                              "cost_per_shipment": round(9.0 + 1.1 * dist, 2),
                              "cost_per_unit": round(0.6 + 0.12 * dist, 2),
                              "transit_days": max(1, days - 1)})
    # Stock: each node carries a SKU with a probability that grows with popularity;
    # about 10% of the SKUs are scarce (total stock below expected demand).
    demand = popularity * expected_units
    scarce = rng.random(n_skus) < 0.10
    inventory = []
    for k, sku in enumerate(skus):
        carry = rng.random(n_nodes) < min(0.95, 0.25 + 40 * popularity[k])
        if not carry.any():
            carry[rng.integers(n_nodes)] = True
        factor = rng.uniform(0.3, 0.8) if scarce[k] else rng.uniform(1.2, 2.5)
        total = max(1, int(round(demand[k] * factor)))
        weights = rng.random(carry.sum())
        qty = np.floor(weights / weights.sum() * total + rng.random(carry.sum())).astype(int)
        for n, q in zip(np.flatnonzero(carry), qty):
            if q > 0:
                inventory.append({"node": node_ids[n], "sku": sku, "available": int(q)})
    marketplace_nodes = sorted(rng.choice(node_ids, size=max(1, n_nodes // 2), replace=False))
    b2b_nodes = sorted(rng.choice(node_ids, size=max(1, n_nodes // 3), replace=False))
    orders = []
    for o in range(n_orders):
        channel = rng.choice(["web", "marketplace", "b2b"], p=[0.6, 0.3, 0.1])
        express = channel != "b2b" and rng.random() < 0.15
        lines = []
        for k in rng.choice(n_skus, size=n_lines[o], p=popularity):
            qty = int(rng.integers(2, 12)) if channel == "b2b" else int(
                rng.choice([1, 1, 1, 2, 2, 3]))
            lines.append({"sku": skus[k], "qty": qty})
        orders.append({
            "id": f"SO-{o:06d}", "region": REGIONS[rng.integers(len(REGIONS))],
            "service": "express" if express else "standard", "channel": str(channel),
            "ship_complete": bool(channel == "b2b" and rng.random() < 0.7),
            "max_shipments": None,
            "max_transit_days": 2 if express else None,
            "backorder_penalty_per_unit": None,
            "lines": lines,
        })
    return {
        "nodes": nodes, "inventory": inventory, "lanes": lanes, "orders": orders,
        "policy": {
            "split_penalty": 3.0, "backorder_penalty_per_unit": 40.0,
            "channel_backorder_penalty": {"marketplace": 60.0, "b2b": 25.0},
            "channel_nodes": {"marketplace": [str(n) for n in marketplace_nodes],
                              "b2b": [str(n) for n in b2b_nodes]},
            "max_shipments_per_order": 3, "time_limit_seconds": time_limit_s,
            "strategy": strategy,
        },
    }
