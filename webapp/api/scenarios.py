"""Scenario runs recorded by ``stockroute scenario run``: list, show, compare."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ledger.db import read_only
from ledger.errors import NotFound
from ledger.models import ScenarioRun
from webapp.api import bp
from webapp.api.auth import requires
from webapp.api.openapi import spec
from webapp.api.params import NextBeforeId, PageQuery, next_before_id
from webapp.extensions import db
from webapp.limits import ROW_ID_MAX
from webapp.services.scenarios import list_runs


class RunSummary(BaseModel):
    id: int
    name: str
    created_at: str
    runs: int
    seconds: float
    report_dir: str | None = None


class RunList(BaseModel):
    items: list[RunSummary]
    next_before_id: NextBeforeId = None


class RunDetail(RunSummary):
    model_config = ConfigDict(extra="allow")
    scenario: dict
    summary: dict = Field(description="KPIs per sweep point: mean, std, min, max")


class RunsQuery(PageQuery):
    """``?limit=&before_id=`` (runs older than that id)."""


class CompareQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: str = Field(pattern=r"^\d+(,\d+){1,9}$", description="2 to 10 run ids, comma-separated")


class CompareRow(BaseModel):
    kpi: str
    values: list[float | None]
    deltas: list[float | None] = Field(description="against the first run")


class CompareOut(BaseModel):
    runs: list[RunSummary]
    kpis: list[CompareRow]


def _detail(r: ScenarioRun) -> dict:
    return {"id": r.id, "name": r.name, "created_at": r.created_at.isoformat(), "runs": r.runs,
            "seconds": float(r.seconds), "report_dir": r.report_dir, "scenario": r.scenario,
            "summary": r.summary}


def _load(session, run_id: int) -> ScenarioRun:
    run = session.get(ScenarioRun, run_id)
    if run is None:
        raise NotFound(f"unknown scenario run {run_id}", field="id")
    return run


@bp.get("/scenarios/runs")
@requires("scenarios:read")
@spec(summary="Recorded scenario runs, newest first, paged by before_id", query=RunsQuery,
      response=RunList, tags=("scenarios",))
def scenario_runs(query: RunsQuery):
    with read_only(db.sessions) as session:
        # one extra row tells whether another page exists
        items = list_runs(session, limit=query.limit + 1, before_id=query.before_id)
    return RunList(items=items[:query.limit],
                   next_before_id=next_before_id(items, query.limit))


@bp.get("/scenarios/runs/<int:run_id>")
@requires("scenarios:read")
@spec(summary="One scenario run: its scenario and KPI summary", response=RunDetail,
      tags=("scenarios",))
def scenario_run(run_id: int):
    with read_only(db.sessions) as session:
        return RunDetail.model_validate(_detail(_load(session, run_id)))


@bp.get("/scenarios/compare")
@requires("scenarios:read")
@spec(summary="Runs side by side: each KPI's mean (first sweep point) and its delta",
      query=CompareQuery, response=CompareOut, tags=("scenarios",))
def scenario_compare(query: CompareQuery):
    ids = [int(x) for x in query.ids.split(",")]
    for i in ids:
        if i > ROW_ID_MAX:  # names no run, and the database would refuse to compare it
            raise NotFound(f"unknown scenario run {i}", field="ids")
    with read_only(db.sessions) as session:
        runs = [_detail(_load(session, i)) for i in ids]
    means = [next(iter(r["summary"].values()))["kpis"] for r in runs]
    rows = []
    for kpi in means[0]:
        values = [m.get(kpi, {}).get("mean") for m in means]
        base = values[0]
        rows.append(CompareRow(kpi=kpi, values=values, deltas=[
            None if v is None or base is None else v - base for v in values]))
    return CompareOut(runs=[RunSummary.model_validate(r) for r in runs], kpis=rows)
