"""The committed JSON Schemas are the ones the models generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.routing.schema import render, schema_files

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


@pytest.mark.parametrize("name,schema", sorted(schema_files().items()))
def test_committed_schema_equals_the_generated_one(name, schema):
    assert (SCHEMAS / name).read_text() == render(schema), (
        "regenerate with: python -m optimizer.routing.schema docs/schemas")
