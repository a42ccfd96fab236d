"""Orders: intake (routed and reserved in one call), reads, lifecycle, batch
re-optimisation, and the routing contract as a pure planning endpoint."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ledger.db import read_only
from ledger.errors import LedgerError
from optimizer import routing
from optimizer.routing.problem import ProblemIn as RoutingProblemIn
from webapp.api import bp
from webapp.api.auth import current_principal, requires
from webapp.api.keys import Work, idempotent
from webapp.api.openapi import check_time_limit, spec
from webapp.extensions import db
from webapp.services import orders as svc
from webapp.services.routing_engine import route_problem


class InvalidProblem(LedgerError):
    code = "invalid_problem"
    status = 422

    @classmethod
    def of(cls, errors: list[dict], fallback: str) -> "InvalidProblem":
        """From a contract parser's errors (``{"field", "message"}`` each): the first
        named, every one in ``details`` (the error handler lists at most 20)."""
        first = errors[0] if errors else {"field": None, "message": fallback}
        return cls(first["message"], field=first["field"], details=errors)


def actor() -> str:
    principal = current_principal()
    return f"{principal.kind}:{principal.name}" if principal else "anonymous"


class LineOut(BaseModel):
    line: int
    sku: str
    qty: int
    qty_backordered: int = 0


class ShipmentLineOut(BaseModel):
    line: int
    sku: str
    qty: int


class ShipmentOut(BaseModel):
    id: int
    node: str
    status: str
    transit_days: int
    cost: float
    carrier: str | None = None
    tracking: str | None = None
    explanation: str | None = None
    lines: list[ShipmentLineOut]


class BackorderOut(BaseModel):
    line: int
    sku: str
    qty: int
    reason: str | None


class ExceptionRef(BaseModel):
    id: int
    kind: str
    severity: str
    status: str
    message: str


class HistoryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str | None = Field(alias="from")
    to: str
    actor: str
    reason: str | None = None
    at: str


class OrderOut(BaseModel):
    id: str
    status: str
    channel: str
    region: str
    service: str
    ship_complete: bool
    customer_ref: str | None = None
    priority: int = 0
    promised_date: str | None = None
    created_at: str
    lines: list[LineOut]
    shipments: list[ShipmentOut]
    backorders: list[BackorderOut]
    exceptions: list[ExceptionRef]
    history: list[HistoryOut]
    routing_status: str | None = None


class ShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str | None = Field(default=None, max_length=64)
    tracking: str | None = Field(default=None, max_length=128)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


class ReoptimizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = False
    time_limit_seconds: float = Field(
        default=30.0, gt=0, le=600,
        description="at most STOCKROUTE_MAX_SOLVE_SECONDS (default 30) over HTTP, which stays "
                    "below the worker timeout; `stockroute reoptimize` takes longer limits")


class ReoptimizeOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    orders: int
    moved: int
    dry_run: bool
    cost_before: float
    cost_after: float
    backordered_units_before: int
    backordered_units_after: int
    backorders_filled: int


class PlanOut(BaseModel):
    """The routing contract's plan document (with an explanation per entry)."""

    model_config = ConfigDict(extra="allow")
    status: str
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    cost: dict[str, float]
    shipments: list[dict]
    backorders: list[dict]


def _out(view: dict) -> OrderOut:
    return OrderOut.model_validate(view)


def _order_body(kwargs: dict) -> dict:
    # The body alone, as keys of POST /orders were always checked against.
    return kwargs["body"].model_dump(mode="json")


@bp.post("/orders")
@requires("orders:write")
@spec(summary="Submit an order: routed on current ATP and reserved in one transaction",
      body=svc.OrderIn, response=OrderOut, status=201, tags=("orders",))
@idempotent("orders", status=201, payload=_order_body)
def post_order(body: svc.OrderIn, work: Work):
    """Send an ``Idempotency-Key`` header: a retry returns the first answer, the
    same key with a different body is refused (409, `idempotency_conflict`), and
    a request still in flight with that key gets 409 (`idempotency_in_progress`)."""
    return _out(svc.submit_order(work.session, body, router=route_problem, actor=actor()))


@bp.get("/orders/<order_id>")
@requires("orders:read")
@spec(summary="An order with its shipments, backorders, exceptions and history",
      response=OrderOut, tags=("orders",))
def get_order(order_id: str):
    with read_only(db.sessions) as session:
        return _out(svc.order_view(session, order_id))


def _transition(work: Work, order_id: str, fn, **kwargs) -> OrderOut:
    return _out(fn(work.session, order_id, actor=actor(), **kwargs))


@bp.post("/orders/<order_id>/release")
@requires("orders:write")
@spec(summary="Release an order's planned shipments to their nodes", response=OrderOut,
      tags=("orders",))
@idempotent("orders.release")
def release(order_id: str, work: Work):
    return _transition(work, order_id, svc.release_order)


@bp.post("/orders/<order_id>/cancel")
@requires("orders:write")
@spec(summary="Cancel what of an order has not shipped; its reservations are released",
      body=ReasonIn, response=OrderOut, tags=("orders",))
@idempotent("orders.cancel")
def cancel(order_id: str, body: ReasonIn, work: Work):
    return _transition(work, order_id, svc.cancel_order, reason=body.reason)


@bp.post("/orders/<order_id>/hold")
@requires("orders:write")
@spec(summary="Put an order on hold", body=ReasonIn, response=OrderOut, tags=("orders",))
@idempotent("orders.hold")
def hold(order_id: str, body: ReasonIn, work: Work):
    return _transition(work, order_id, svc.hold_order, reason=body.reason)


@bp.post("/orders/<order_id>/unhold")
@requires("orders:write")
@spec(summary="Lift an order's hold", response=OrderOut, tags=("orders",))
@idempotent("orders.unhold")
def unhold(order_id: str, work: Work):
    return _transition(work, order_id, svc.unhold_order)


@bp.post("/orders/<order_id>/deliver")
@requires("orders:write")
@spec(summary="Record delivery of a shipped order", response=OrderOut, tags=("orders",))
@idempotent("orders.deliver")
def deliver(order_id: str, work: Work):
    return _transition(work, order_id, svc.deliver_order)


@bp.post("/orders/<order_id>/shipments/<int:shipment_id>/ship")
@requires("orders:write")
@spec(summary="Ship one shipment (reserved stock leaves to the customer)", body=ShipIn,
      response=OrderOut, tags=("orders",))
@idempotent("orders.ship")
def ship(order_id: str, shipment_id: int, body: ShipIn, work: Work):
    return _out(svc.ship_shipment(work.session, order_id, shipment_id, actor=actor(),
                                  carrier=body.carrier, tracking=body.tracking))


@bp.post("/routing/reoptimize")
@requires("orders:write")
@spec(summary="Re-plan all open, unreleased orders and backorders together",
      body=ReoptimizeIn, response=ReoptimizeOut, tags=("routing",))
@idempotent("routing.reoptimize", commit=lambda kwargs: not kwargs["body"].dry_run)
def reoptimize(body: ReoptimizeIn, work: Work):
    check_time_limit(body.time_limit_seconds, "time_limit_seconds")
    settings = svc.RoutingSettings(time_limit_s=body.time_limit_seconds)
    result = svc.reoptimize(work.session, router=route_problem, actor=actor(),
                            dry_run=body.dry_run, settings=settings)
    return ReoptimizeOut.model_validate(result)


@bp.post("/routing/plan")
@requires("orders:read")
@spec(summary="Plan a routing problem (the routing contract); nothing is reserved",
      own_body=("RoutingProblem", RoutingProblemIn), response=PlanOut, tags=("routing",))
def routing_plan():
    """The body is a routing-contract problem; the answer its plan, with an
    explanation on every shipment and backorder. Bad input is a 422 naming
    the field path, and so is a `policy.time_limit_seconds` above
    STOCKROUTE_MAX_SOLVE_SECONDS (default 30): longer solves would outlive the
    worker timeout; run them with `stockroute route`."""
    from webapp.api.openapi import _json_body
    try:
        problem = routing.parse_problem(_json_body())
    except routing.RoutingInputError as err:
        raise InvalidProblem.of(err.errors, str(err)) from None
    check_time_limit(problem.time_limit_s, "policy.time_limit_seconds")
    plan = routing.solve(problem, workers=1, seed=0)
    return PlanOut.model_validate(routing.explain_plan(problem, plan))
