"""The committed JSON Schemas are the ones the models generate; plans conform to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.replenishment import parse_problem, solve
from optimizer.replenishment.schema import PlanOut, render, schema_files

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


@pytest.mark.parametrize("name,schema", sorted(schema_files().items()))
def test_committed_schema_equals_the_generated_one(name, schema):
    assert (SCHEMAS / name).read_text() == render(schema), (
        "regenerate with: python -m optimizer.replenishment.schema docs/schemas")


def test_a_plan_conforms_to_the_plan_model(doc):
    doc["suppliers"][0]["capacity_units"] = 12
    PlanOut.model_validate(solve(parse_problem(doc), strategy="minmax").to_json())
