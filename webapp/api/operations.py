"""Warehouse postings, purchasing, returns and the exceptions queue over HTTP.

Stock arriving (receipts, restocks, count gains, transfers received) re-routes
waiting backorders of those SKUs right after the posting commits.
"""

from __future__ import annotations

import datetime as dt

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from ledger.db import read_only
from optimizer.replenishment.problem import ProblemIn as ReplenishmentProblemIn
from webapp.api import bp
from webapp.api.auth import requires
from webapp.api.keys import Work, idempotent
from webapp.api.openapi import spec
from webapp.api.params import NextBeforeId, PageQuery, next_before_id
from webapp.limits import DB_INT_MAX
from webapp.api.orders import OrderOut, actor
from webapp.extensions import db
from webapp.services import exceptions as exc_svc
from webapp.services import inventory as inv
from webapp.services import orders as order_svc
from webapp.services import purchasing as po_svc
from webapp.services import returns as ret_svc
from webapp.services.routing_engine import route_problem


class Result(BaseModel):
    """A posting's outcome (movement ids and what was done)."""

    model_config = ConfigDict(extra="allow")


def _key() -> str | None:
    return request.headers.get("Idempotency-Key")


def _reroute(skus: list[str]) -> dict:
    """Give arriving stock to waiting backorders (oldest, most urgent first).

    The posting has committed by now: a failed refill is logged and queued as
    a ``refill_failed`` exception, never turned into an error of the request."""
    return order_svc.refill_after_arrival(db.sessions, skus, router=route_problem)


def _reroute_into(field: str | None, skus: list[str]):
    """An after-commit step: re-route backorders of ``skus``, its outcome under ``field``
    of the answer (or nowhere)."""
    def step(answer: dict) -> None:
        outcome = _reroute(skus)
        if field is not None:
            answer[field] = outcome
    return step


# --------------------------------------------------------------------------- inventory

@bp.post("/inventory/counts")
@requires("inventory:write")
@spec(summary="Record a cycle count: available is brought to the counted number",
      body=inv.CountIn, response=Result, tags=("inventory",))
@idempotent("inventory.counts")
def post_count(body: inv.CountIn, work: Work):
    """With an ``Idempotency-Key``, a retry with the same body gets the first answer
    (its difference, movement and any discrepancy exception) and counts nothing again,
    however the stock has moved since."""
    result = inv.cycle_count(work.session, body, actor=actor())
    if result["difference"] > 0:
        work.after_commit(_reroute_into("rerouted", [body.sku]))
    return Result.model_validate(result)


@bp.post("/inventory/holds")
@requires("inventory:write")
@spec(summary="Put units on hold, or release them (release: true)", body=inv.HoldIn,
      response=Result, tags=("inventory",))
@idempotent("inventory.holds")
def post_hold(body: inv.HoldIn, work: Work):
    result = inv.hold(work.session, body, actor=actor(), key=_key())
    if body.release:
        work.after_commit(_reroute_into("rerouted", [body.sku]))
    return Result.model_validate(result)


@bp.post("/inventory/transfers")
@requires("inventory:write")
@spec(summary="Send units from one node to another (available → inbound there)",
      body=inv.TransferIn, response=Result, tags=("inventory",))
@idempotent("inventory.transfers")
def post_transfer(body: inv.TransferIn, work: Work):
    return Result.model_validate(inv.transfer(work.session, body, actor=actor(), key=_key()))


@bp.post("/inventory/transfers/receive")
@requires("inventory:write")
@spec(summary="Receive a transfer at its destination (inbound → available)",
      body=inv.TransferIn, response=Result, tags=("inventory",))
@idempotent("inventory.transfer_receipts")
def post_transfer_receipt(body: inv.TransferIn, work: Work):
    result = inv.receive_transfer(work.session, body, actor=actor(), key=_key())
    work.after_commit(_reroute_into("rerouted", [body.sku]))
    return Result.model_validate(result)


# --------------------------------------------------------------------------- purchasing

class PoLineOut(BaseModel):
    sku: str
    qty_ordered: int
    qty_received: int
    unit_cost: float
    expected_date: str


class PoOut(BaseModel):
    id: int
    code: str
    status: str
    supplier: str
    node: str
    expected_date: str
    created_by: str | None = None
    note: str | None = None
    placed_at: str | None = None
    lines: list[PoLineOut]
    value: float


class PoList(BaseModel):
    items: list[PoOut]
    next_before_id: NextBeforeId = None


class PoQuery(PageQuery):
    status: str | None = Field(default=None, pattern="^(draft|placed|partially_received|received|cancelled)$")
    offset: int = Field(default=0, ge=0, le=DB_INT_MAX,
                        description="deprecated, kept for old clients: skip this many; "
                                    "page with before_id instead")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    codes: list[str] = Field(min_length=1, max_length=po_svc.MAX_BULK)


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[po_svc.EditLineIn] = Field(default_factory=list, max_length=1000)
    expected_date: dt.date | None = None


class ExpediteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_date: dt.date


@bp.get("/purchase-orders")
@requires("purchasing:read")
@spec(summary="Purchase orders and proposals, newest first, paged by before_id", query=PoQuery,
      response=PoList, tags=("purchasing",))
def list_pos(query: PoQuery):
    with read_only(db.sessions) as session:
        items = po_svc.list_purchase_orders(session, status=query.status, limit=query.limit + 1,
                                            before_id=query.before_id, offset=query.offset)
    return PoList(items=items[:query.limit], next_before_id=next_before_id(items, query.limit))


@bp.post("/purchase-orders/approve")
@requires("purchasing:write")
@spec(summary="Approve draft proposals in bulk: each is placed (po_placed), all or nothing",
      body=ApproveIn, response=PoList, tags=("purchasing",))
@idempotent("purchase_orders.approve")
def approve(body: ApproveIn, work: Work):
    return PoList(items=po_svc.approve(work.session, body.codes, actor=actor()))


@bp.post("/purchase-orders/<code>/edit")
@requires("purchasing:write")
@spec(summary="Edit a draft proposal's quantities or date", body=EditIn, response=PoOut,
      tags=("purchasing",))
@idempotent("purchase_orders.edit")
def edit(code: str, body: EditIn, work: Work):
    return PoOut.model_validate(po_svc.edit_proposal(
        work.session, code, body.lines, actor=actor(), expected_date=body.expected_date))


@bp.post("/purchase-orders/<code>/receipts")
@requires("inventory:write")
@spec(summary="Receive units against a purchase order (partial, over or short-closed)",
      body=po_svc.ReceiptIn, response=PoOut, tags=("purchasing",))
@idempotent("purchase_orders.receipts")
def receive(code: str, body: po_svc.ReceiptIn, work: Work):
    view = po_svc.receive(work.session, code, body, actor=actor())
    work.after_commit(_reroute_into(None, [line.sku for line in body.lines]))
    return PoOut.model_validate(view)


@bp.post("/purchase-orders/<code>/cancel")
@requires("purchasing:write")
@spec(summary="Cancel a purchase order; its open quantity leaves inbound", response=PoOut,
      tags=("purchasing",))
@idempotent("purchase_orders.cancel")
def cancel_po(code: str, work: Work):
    return PoOut.model_validate(po_svc.cancel(work.session, code, actor=actor()))


@bp.post("/purchase-orders/<code>/expedite")
@requires("purchasing:write")
@spec(summary="Record an earlier expected date agreed with the supplier", body=ExpediteIn,
      response=PoOut, tags=("purchasing",))
@idempotent("purchase_orders.expedite")
def expedite(code: str, body: ExpediteIn, work: Work):
    return PoOut.model_validate(po_svc.expedite(work.session, code, body.expected_date,
                                                actor=actor()))


# --------------------------------------------------------------------------- returns

class ReturnOut(BaseModel):
    code: str
    order: str
    line: int
    sku: str
    qty: int
    node: str
    reason: str
    status: str
    created_at: str
    received_at: str | None = None


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(restock|scrap|quarantine)$")


@bp.post("/returns")
@requires("orders:write")
@spec(summary="Authorise a return (RMA) against a shipped order line", body=ret_svc.ReturnIn,
      response=ReturnOut, status=201, tags=("returns",))
@idempotent("returns", status=201)
def authorise_return(body: ret_svc.ReturnIn, work: Work):
    return ReturnOut.model_validate(ret_svc.authorise(work.session, body, actor=actor()))


@bp.post("/returns/<code>/receive")
@requires("inventory:write")
@spec(summary="Receive a returned parcel into inspection", response=ReturnOut,
      tags=("returns",))
@idempotent("returns.receive")
def receive_return(code: str, work: Work):
    return ReturnOut.model_validate(ret_svc.receive(work.session, code, actor=actor()))


@bp.post("/returns/<code>/disposition")
@requires("inventory:write")
@spec(summary="Restock, scrap or quarantine a received return", body=DispositionIn,
      response=ReturnOut, tags=("returns",))
@idempotent("returns.disposition")
def disposition(code: str, body: DispositionIn, work: Work):
    view = ret_svc.disposition(work.session, code, body.action, actor=actor())
    if body.action == "restock":
        work.after_commit(_reroute_into(None, [view["sku"]]))
    return ReturnOut.model_validate(view)


# --------------------------------------------------------------------------- exceptions

class ExceptionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    kind: str
    severity: str
    status: str
    message: str


class ExceptionPage(BaseModel):
    items: list[ExceptionOut]
    next_before_id: int | None


class ExceptionQuery(PageQuery):
    kind: str | None = Field(default=None, max_length=32)
    severity: str | None = None
    status: str | None = None
    node: str | None = Field(default=None, max_length=128)
    sku: str | None = Field(default=None, max_length=128)
    min_age_hours: float | None = Field(default=None, ge=0, le=24 * 366 * 100)


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: dt.datetime


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)


@bp.get("/exceptions")
@requires("exceptions:read")
@spec(summary="The exceptions queue, newest first, filtered and paged", query=ExceptionQuery,
      response=ExceptionPage, tags=("exceptions",))
def list_exceptions(query: ExceptionQuery):
    with read_only(db.sessions) as session:
        items = exc_svc.list_exceptions(session, **query.model_dump(exclude={"limit"}),
                                        limit=query.limit + 1)
    return ExceptionPage(items=items[:query.limit],
                         next_before_id=next_before_id(items, query.limit))


@bp.post("/exceptions/<int:exception_id>/acknowledge")
@requires("exceptions:write")
@spec(summary="Acknowledge an exception", response=ExceptionOut, tags=("exceptions",))
@idempotent("exceptions.acknowledge")
def acknowledge(exception_id: int, work: Work):
    return ExceptionOut.model_validate(exc_svc.acknowledge(work.session, exception_id,
                                                           actor=actor()))


@bp.post("/exceptions/<int:exception_id>/snooze")
@requires("exceptions:write")
@spec(summary="Snooze an exception until an instant (with a UTC offset)", body=SnoozeIn,
      response=ExceptionOut, tags=("exceptions",))
@idempotent("exceptions.snooze")
def snooze(exception_id: int, body: SnoozeIn, work: Work):
    return ExceptionOut.model_validate(exc_svc.snooze(work.session, exception_id,
                                                      until=body.until, actor=actor()))


@bp.post("/exceptions/<int:exception_id>/resolve")
@requires("exceptions:write")
@spec(summary="Resolve an exception with a note", body=ResolveIn, response=ExceptionOut,
      tags=("exceptions",))
@idempotent("exceptions.resolve")
def resolve(exception_id: int, body: ResolveIn, work: Work):
    return ExceptionOut.model_validate(exc_svc.resolve(work.session, exception_id,
                                                       actor=actor(), note=body.note))


@bp.post("/exceptions/<int:exception_id>/reroute")
@requires("orders:write")
@spec(summary="Act on a backorder exception: route its order's waiting lines again",
      response=OrderOut, tags=("exceptions",))
@idempotent("exceptions.reroute")
def reroute_from_exception(exception_id: int, work: Work):
    session = work.session
    # Read without a row lock: the refill locks the order, then its stock, then
    # updates the order's exceptions (this one among them), the order every other
    # path follows; holding this row first could deadlock with a cancel of the order.
    e = exc_svc.view(exc_svc._get(session, exception_id, lock=False))
    if not e["order"]:
        from ledger.errors import LedgerError
        raise LedgerError("this exception concerns no order", field="id")
    outcome = order_svc.reroute_backorders(session, router=route_problem, actor=actor(),
                                           order_codes=[e["order"]])
    view = order_svc.order_view(session, e["order"])
    if not outcome["orders"]:
        # cancelled, shipped, or filled meanwhile: answering 200 with the order unchanged
        # read as if the re-route had been tried and found nothing
        raise order_svc.InvalidTransition(
            f"order {e['order']} has no lines waiting to be routed (it is {view['status']})",
            field="id")
    return OrderOut.model_validate(view)


# --------------------------------------------------------------------------- replenishment

class ReplenishmentPlanOut(BaseModel):
    """The replenishment contract's plan document."""

    model_config = ConfigDict(extra="allow")
    status: str
    objective: float
    bound: float
    gap: float
    orders: list[dict]


@bp.post("/replenishment/plan")
@requires("purchasing:read")
@spec(summary="Plan a replenishment problem (the replenishment contract); nothing is stored",
      own_body=("ReplenishmentProblem", ReplenishmentProblemIn), response=ReplenishmentPlanOut,
      tags=("purchasing",))
def replenishment_plan():
    """The body is a replenishment-contract problem; bad input is a 422 naming the field,
    as is a `policy.time_limit_seconds` above STOCKROUTE_MAX_SOLVE_SECONDS (default 30)."""
    from optimizer import replenishment
    from webapp.api.openapi import _json_body, check_time_limit
    from webapp.api.orders import InvalidProblem
    try:
        problem = replenishment.parse_problem(_json_body())
    except replenishment.ReplenishmentInputError as err:
        raise InvalidProblem.of(err.errors, str(err)) from None
    check_time_limit(problem.time_limit_s, "policy.time_limit_seconds")
    plan = replenishment.solve(problem, workers=1, seed=0)
    return ReplenishmentPlanOut.model_validate(plan.to_json())
