"""Query parameters every list endpoint shares: paging by id (docs/api.md, "Paging").

``limit`` defaults to 50 and is at most ``MAX_PAGE_SIZE`` (a larger value is
refused, never silently cut); ``before_id`` returns items older than that id;
the answer's ``next_before_id`` is the ``before_id`` of the next page. Ids are
bounded to a database integer here; ``webapp.api.openapi.spec`` also refuses any
other integer query parameter or path id beyond it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from webapp.config import MAX_PAGE_SIZE  # STOCKROUTE_MAX_PAGE_SIZE may lower it per app
from webapp.limits import DB_INT_MAX

DEFAULT_PAGE_SIZE = 50

Limit = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE,
                             description=f"page size, at most {MAX_PAGE_SIZE}")]
BeforeId = Annotated[int | None, Field(ge=1, le=DB_INT_MAX,
                                       description="return items older than this id "
                                                   "(the previous page's next_before_id)")]
NextBeforeId = Annotated[int | None, Field(description="pass as before_id for the next page; "
                                                       "null on the last page")]


class PageQuery(BaseModel):
    """``?limit=N&before_id=ID``; subclasses add their filters."""

    model_config = ConfigDict(extra="forbid")
    limit: Limit = DEFAULT_PAGE_SIZE
    before_id: BeforeId = None


def next_before_id(items: list, limit: int, id_of=lambda item: item["id"]) -> int | None:
    """``items`` was fetched with ``limit + 1``: the id to continue from, or None at the end."""
    return id_of(items[limit - 1]) if len(items) > limit else None
