"""What the contracts' JSON Schema modules share: the strict output base model,
the committed file format, and writing the files (``python -m optimizer.<area>.schema DIR``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class StrictOut(BaseModel):
    """Base of the plan-document models: no extra fields, no coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(files: dict[str, dict], argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0] if argv else "docs/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in files.items():
        (target / name).write_text(render(schema))
