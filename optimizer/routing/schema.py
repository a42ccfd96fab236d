"""JSON Schemas of the routing problem and plan, generated from the pydantic models.

The committed copies live in ``docs/schemas/``; regenerate them with
``python -m optimizer.routing.schema docs/schemas`` (a test checks they match).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .plan import REASONS, STATUSES
from .problem import ProblemIn

Status = Literal[STATUSES]  # type: ignore[valid-type]
Reason = Literal[REASONS]   # type: ignore[valid-type]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CostOut(_Out):
    shipment: float
    unit: float
    split: float
    backorder: float


class ShipmentLineOut(_Out):
    line: int
    sku: str
    qty: int


class ShipmentOut(_Out):
    order: str
    node: str
    transit_days: int
    lines: list[ShipmentLineOut]
    explanation: str | None = None


class BackorderOut(_Out):
    order: str
    line: int
    sku: str
    qty: int
    reason: Reason
    explanation: str | None = None


class PlanOut(_Out):
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


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in schema_files().items():
        (target / name).write_text(render(schema))
