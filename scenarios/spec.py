"""Scenario files: what-if descriptions, validated with errors naming the field path.

A scenario is YAML or JSON. Dates are ISO (``2026-11-27``); ranges are
inclusive. See ``docs/scenarios.md`` for every field.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_HORIZON_DAYS = 365
MAX_ORDERS_PER_DAY = 200_000
MAX_REPLICATIONS = 256
MAX_SWEEP_POINTS = 256
FIRST_START, LAST_START = dt.date(1970, 1, 1), dt.date(8999, 12, 31)


class _M(BaseModel):
    # no NaN or infinity anywhere (YAML spells them .nan and .inf): a NaN became null in
    # the workers' copy of the scenario, an infinite cost broke the optimizers
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DateRange(_M):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class Start(_M):
    demo_seed: int | None = 7          # the demo world built with this seed
    from_db: bool = False              # a snapshot of the live database (CLI --from-db)
    n_skus: int = Field(default=500, ge=10, le=5000)


class Uplift(_M):
    factor: float = Field(gt=0, le=100)
    dates: DateRange
    sku: str | None = None
    category: str | None = None
    channel: str | None = None


class Demand(_M):
    # the shares and probabilities are checked below, naming what is not finite
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)

    orders_per_day: float = Field(default=2000, gt=0, le=MAX_ORDERS_PER_DAY)
    channel_mix: dict[str, float] = Field(default_factory=lambda: {
        "web": 0.6, "marketplace": 0.3, "b2b": 0.1})
    express_share: float = Field(default=0.15, ge=0, le=1)
    ship_complete_share: float = Field(default=0.05, ge=0, le=1)
    lines_per_order: list[float] = Field(default_factory=lambda: [0.55, 0.25, 0.13, 0.07],
                                         min_length=1, max_length=10)
    noise: float = Field(default=0.1, ge=0, le=2)   # day-to-day lognormal noise on volume
    uplifts: list[Uplift] = Field(default_factory=list, max_length=100)

    @field_validator("channel_mix")
    @classmethod
    def _shares(cls, mix: dict[str, float]) -> dict[str, float]:
        bad = [f"{c} is {v}" for c, v in mix.items() if not (math.isfinite(v) and v >= 0)]
        if bad:
            raise ValueError(f"shares must be finite and non-negative ({'; '.join(bad)})")
        if not sum(mix.values()) > 0:
            raise ValueError("the shares must sum to more than 0")
        return mix

    @field_validator("lines_per_order")
    @classmethod
    def _line_probabilities(cls, probabilities: list[float]) -> list[float]:
        bad = [f"{i} line{'s' if i > 1 else ''} is {p}"
               for i, p in enumerate(probabilities, 1) if not (math.isfinite(p) and p >= 0)]
        if bad:
            raise ValueError(f"probabilities must be finite and non-negative "
                             f"({'; '.join(bad)})")
        if not sum(probabilities) > 0:
            raise ValueError("the probabilities must sum to more than 0")
        return probabilities

    def channel_shares(self) -> dict[str, float]:
        """``channel_mix`` normalised to sum to 1 (as given when it already does)."""
        total = sum(self.channel_mix.values())
        if abs(total - 1.0) <= 1e-9:
            return dict(self.channel_mix)
        return {c: v / total for c, v in self.channel_mix.items()}


class Disruption(_M):
    kind: Literal["supplier_delay", "supplier_capacity", "node_outage", "node_capacity",
                  "lane_cost"]
    dates: DateRange
    supplier: str | None = None
    node: str | None = None
    region: str | None = None
    days: int | None = Field(default=None, ge=0, le=365)        # supplier_delay
    factor: float | None = Field(default=None, ge=0, le=100)    # capacity / cost multiplier

    @model_validator(mode="after")
    def _fields_for_kind(self):
        need = {"supplier_delay": ("supplier", "days"), "supplier_capacity": ("supplier", "factor"),
                "node_outage": ("node",), "node_capacity": ("node", "factor"),
                "lane_cost": ("factor",)}[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.kind} needs {', '.join(missing)}")
        return self


class RoutingPolicy(_M):
    strategy: Literal["optimal", "greedy"] = "optimal"
    split_penalty: float = Field(default=3.0, ge=0)
    time_limit_seconds: float = Field(default=1.0, gt=0, le=600)
    max_backlog_orders: int = Field(default=2000, ge=0, le=100_000)


class ReplenishmentPolicy(_M):
    # "none": buy nothing during the horizon (only what is already on order arrives).
    strategy: Literal["optimal", "minmax", "none"] = "optimal"
    cadence_days: int = Field(default=7, ge=1, le=90)
    horizon_periods: int = Field(default=8, ge=2, le=52)
    service_level: float = Field(default=0.95, gt=0.5, lt=1)
    time_limit_seconds: float = Field(default=10.0, gt=0, le=600)
    holding_rate_per_week: float = Field(default=0.005, ge=0)   # of unit cost
    backlog_cost_share: float = Field(default=0.3, ge=0)        # of price, per unit-week


class Returns(_M):
    rate: float = Field(default=0.05, ge=0, le=1)
    delay_days: int = Field(default=7, ge=0, le=90)
    restock_share: float = Field(default=0.8, ge=0, le=1)


class Policies(_M):
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    replenishment: ReplenishmentPolicy = Field(default_factory=ReplenishmentPolicy)


class Scenario(_M):
    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    start: Start = Field(default_factory=Start)
    start_date: dt.date = dt.date(2026, 11, 20)
    horizon_days: int = Field(default=30, ge=1, le=MAX_HORIZON_DAYS)
    waves_per_day: int = Field(default=4, ge=1, le=48)
    demand: Demand = Field(default_factory=Demand)
    disruptions: list[Disruption] = Field(default_factory=list, max_length=100)
    policies: Policies = Field(default_factory=Policies)
    returns: Returns = Field(default_factory=Returns)
    replications: int = Field(default=1, ge=1, le=MAX_REPLICATIONS)
    seed: int = 1
    # A grid over dotted field paths, e.g. {"demand.uplifts.0.factor": [1, 2, 3]}.
    sweep: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("start_date")
    @classmethod
    def _calendar(cls, day: dt.date) -> dt.date:
        # the engine's dates run a year or more past the horizon, and the charts draw no
        # date before the year 1: both ends failed mid-run
        if not FIRST_START <= day <= LAST_START:
            raise ValueError(f"must be from {FIRST_START} to {LAST_START}")
        return day

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.horizon_days - 1)


class ScenarioError(ValueError):
    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def _path(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "scenario"


def parse_scenario(data: Any) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([{"field": _path(e["loc"]), "message": e["msg"]}
                             for e in exc.errors()]) from None


def world_errors(scenario: Scenario, world) -> list[dict]:
    """Names in the scenario that the starting world does not have: nodes, suppliers and
    regions of disruptions; SKUs, categories and channels of uplifts; channels of the mix.
    (A disruption or uplift naming nothing that exists would silently do nothing.)"""
    nodes = {n["code"] for n in world.nodes}
    suppliers = {s["code"] for s in world.suppliers}
    regions = {l["region"] for l in world.lanes} | set(world.region_weights)
    skus = {s["code"] for s in world.skus}
    categories = {s.get("category") for s in world.skus}
    channels = {c["code"] for c in world.channels}
    errors: list[dict] = []

    def check(value, pool, field, what):
        if value is not None and value not in pool:
            errors.append({"field": field, "message": f"unknown {what} {value!r} (the world has "
                                                      f"{_some(pool)})"})

    missing = [what for what, pool in (("nodes", nodes), ("SKUs", skus)) if not pool]
    if missing:   # e.g. --from-db on a database with nothing loaded yet
        errors.append({"field": "start", "message": f"the starting world has no "
                       f"{' and no '.join(missing)} to simulate (load some: stockroute "
                       f"import, or stockroute demo)"})
    for i, d in enumerate(scenario.disruptions):
        check(d.node, nodes, f"disruptions[{i}].node", "node")
        check(d.supplier, suppliers, f"disruptions[{i}].supplier", "supplier")
        check(d.region, regions, f"disruptions[{i}].region", "region")
    for i, u in enumerate(scenario.demand.uplifts):
        check(u.sku, skus, f"demand.uplifts[{i}].sku", "SKU")
        check(u.category, categories, f"demand.uplifts[{i}].category", "category")
        if channels:
            check(u.channel, channels, f"demand.uplifts[{i}].channel", "channel")
    if channels:
        for c in scenario.demand.channel_mix:
            check(c, channels, f"demand.channel_mix.{c}", "channel")
    return errors


def _some(pool: set) -> str:
    names = sorted(str(x) for x in pool if x is not None)
    if not names:
        return "none"
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def check_world(scenario: Scenario, world) -> None:
    """Raise ScenarioError when the scenario names what ``world`` does not have."""
    errors = world_errors(scenario, world)
    if errors:
        raise ScenarioError(errors)


def load_scenario(path: str | Path) -> Scenario:
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError([{"field": "file", "message": f"cannot parse: {exc}"}]) from None
    return parse_scenario(data)


def expand_sweep(scenario: Scenario) -> list[tuple[dict, Scenario]]:
    """Every point of the scenario's sweep grid as (parameters, scenario)."""
    if not scenario.sweep:
        return [({}, scenario)]
    keys = sorted(scenario.sweep)
    grid = list(itertools.product(*(scenario.sweep[k] for k in keys)))
    if len(grid) > MAX_SWEEP_POINTS:
        raise ScenarioError([{"field": "sweep", "message":
                              f"{len(grid)} points; at most {MAX_SWEEP_POINTS}"}])
    points = []
    base = scenario.model_dump(by_alias=True, exclude={"sweep"})
    for values in grid:
        data = json.loads(json.dumps(base, default=str))
        for key, value in zip(keys, values):
            _set(data, key, value)
        params = dict(zip(keys, values))
        data["name"] = f"{scenario.name} " + " ".join(f"{k}={v}" for k, v in params.items())
        points.append((params, parse_scenario(data)))
    return points


def _set(data: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    node = data
    try:
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            if last not in node:
                raise KeyError(last)
            node[last] = value
    except (KeyError, IndexError, ValueError, TypeError):
        raise ScenarioError([{"field": f"sweep.{dotted}",
                              "message": "does not name a field of the scenario"}]) from None
