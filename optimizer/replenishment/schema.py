"""JSON Schemas of the replenishment problem and plan, generated from the pydantic models.

The committed copies live in ``docs/schemas/``; regenerate them with
``python -m optimizer.replenishment.schema docs/schemas`` (a test checks they match).
"""

from __future__ import annotations

from typing import Literal

from optimizer.schema_io import StrictOut, render, write_schemas

from .plan import KINDS, STATUSES
from .problem import ProblemIn

Status = Literal[STATUSES]  # type: ignore[valid-type]
Kind = Literal[KINDS]       # type: ignore[valid-type]




class CostOut(StrictOut):
    purchase: float
    ordering: float
    holding: float
    backlog: float
    safety: float


class OrderOut(StrictOut):
    supplier: str
    sku: str
    node: str
    order_period: int
    arrival_period: int
    qty: int
    unit_cost: float


class ProjectionOut(StrictOut):
    sku: str
    node: str
    period: int
    receipts: int
    demand: int
    inventory: int
    safety_stock: int


class ExceptionOut(StrictOut):
    sku: str
    node: str
    period: int
    kind: Kind
    qty: int
    detail: str


class PlanOut(StrictOut):
    """The replenishment plan document (``ReplenishmentPlan.to_json()``)."""

    status: Status
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    cost: CostOut
    orders: list[OrderOut]
    projection: list[ProjectionOut]
    exceptions: list[ExceptionOut]


def schema_files() -> dict[str, dict]:
    return {"replenishment-problem.schema.json": ProblemIn.model_json_schema(),
            "replenishment-plan.schema.json": PlanOut.model_json_schema()}


__all__ = ["PlanOut", "render", "schema_files"]


if __name__ == "__main__":
    write_schemas(schema_files())
