"""JSON Schemas of the routing problem and plan, generated from the pydantic models.

The committed copies live in ``docs/schemas/``; regenerate them with
``python -m optimizer.routing.schema docs/schemas`` (a test checks they match).
"""

from __future__ import annotations

from typing import Literal

from optimizer.schema_io import StrictOut, render, write_schemas

from .plan import REASONS, STATUSES
from .problem import ProblemIn

Status = Literal[STATUSES]  # type: ignore[valid-type]
Reason = Literal[REASONS]   # type: ignore[valid-type]




class CostOut(StrictOut):
    shipment: float
    unit: float
    split: float
    backorder: float


class ShipmentLineOut(StrictOut):
    line: int
    sku: str
    qty: int


class ShipmentOut(StrictOut):
    order: str
    node: str
    transit_days: int
    lines: list[ShipmentLineOut]
    explanation: str | None = None


class BackorderOut(StrictOut):
    order: str
    line: int
    sku: str
    qty: int
    reason: Reason
    explanation: str | None = None


class PlanOut(StrictOut):
    """The routing plan document (``RoutingPlan.to_json()``)."""

    status: Status
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    cost: CostOut
    shipments: list[ShipmentOut]
    backorders: list[BackorderOut]


def problem_schema() -> dict:
    return ProblemIn.model_json_schema()


def plan_schema() -> dict:
    return PlanOut.model_json_schema()


def schema_files() -> dict[str, dict]:
    return {"routing-problem.schema.json": problem_schema(),
            "routing-plan.schema.json": plan_schema()}


__all__ = ["PlanOut", "render", "schema_files"]


if __name__ == "__main__":
    write_schemas(schema_files())
