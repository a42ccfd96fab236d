"""JSON Schemas of the replenishment problem and plan, generated from the pydantic models.

The committed copies live in ``docs/schemas/``; regenerate them with
``python -m optimizer.replenishment.schema docs/schemas`` (a test checks they match).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .plan import KINDS, STATUSES
from .problem import ProblemIn

Status = Literal[STATUSES]  # type: ignore[valid-type]
Kind = Literal[KINDS]       # type: ignore[valid-type]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CostOut(_Out):
    purchase: float
    ordering: float
    holding: float
    backlog: float
    safety: float


class OrderOut(_Out):
    supplier: str
    sku: str
    node: str
    order_period: int
    arrival_period: int
    qty: int
    unit_cost: float


class ProjectionOut(_Out):
    sku: str
    node: str
    period: int
    receipts: int
    demand: int
    inventory: int
    safety_stock: int


class ExceptionOut(_Out):
    sku: str
    node: str
    period: int
    kind: Kind
    qty: int
    detail: str


class PlanOut(_Out):
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


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in schema_files().items():
        (target / name).write_text(render(schema))
