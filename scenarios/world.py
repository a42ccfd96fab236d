"""The starting state of a simulation, as plain data the engine copies."""

from __future__ import annotations

from dataclasses import dataclass, field

REGION_WEIGHTS = {"NE": 0.2, "SE": 0.15, "MW": 0.12, "SW": 0.1, "W": 0.15, "NW": 0.08,
                  "S": 0.1, "C": 0.1}


@dataclass(frozen=True)
class World:
    skus: list[dict]                      # code, category, unit_cost, price, case_pack
    popularity: dict[str, float]          # sku -> share of units demanded
    node_share: dict[str, dict[str, float]]  # sku -> node -> share of its demand (for planning)
    nodes: list[dict]                     # code, kind, region, capacity_*_per_day, handling_*, receiving_capacity_per_day
    lanes: list[dict]                     # node, region, service, cost_per_shipment, cost_per_unit, transit_days
    channels: list[dict]                  # code, backorder_penalty_per_unit, nodes
    suppliers: list[dict]                 # code, lead_time_days, capacity_units_per_period, fixed_order_cost
    supplier_items: list[dict]            # supplier, sku, unit_cost, moq
    stock: dict[tuple[str, str], int]     # (sku, node) -> available
    inbound: list[tuple[str, str, int, int]] = field(default_factory=list)  # sku, node, day offset, qty
    region_weights: dict[str, float] = field(default_factory=lambda: dict(REGION_WEIGHTS))


def world_from_demo(seed: int = 7, n_skus: int = 500) -> World:
    from ledger.demo import build_demo_world
    w = build_demo_world(seed, n_skus=n_skus)
    units: dict[str, dict[str, float]] = {}
    for sku, node, _channel, _day, u, _orders in w.history:
        units.setdefault(sku, {}).setdefault(node, 0.0)
        units[sku][node] += u
    share = {sku: {n: u / sum(by_node.values()) for n, u in by_node.items()}
             for sku, by_node in units.items()}
    stock: dict[tuple[str, str], int] = {}
    for sku, node, qty in w.stock:
        stock[(sku, node)] = stock.get((sku, node), 0) + qty
    inbound = [(l["sku"], po["node"], max(0, (po["expected_date"] - w.today).days), l["qty"])
               for po in w.purchase_orders for l in po["lines"]]
    return World(skus=w.skus, popularity=w.popularity, node_share=share, nodes=w.nodes,
                 lanes=w.lanes, channels=w.channels, suppliers=w.suppliers,
                 supplier_items=w.supplier_items, stock=stock, inbound=inbound)
