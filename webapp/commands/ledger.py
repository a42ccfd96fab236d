"""``stockroute ledger …``: audit, balances, history and manual postings."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click
from flask.cli import with_appcontext

from ledger import queries
from ledger.audit import audit as run_audit
from ledger.db import read_only, unit_of_work
from ledger.errors import LedgerError
from ledger.movements import KINDS, Movement
from ledger.posting import post as post_movements
from webapp.extensions import db
from webapp.limits import DB_INT_MAX


@click.group("ledger", help="Inspect and post to the inventory ledger.")
def ledger_group() -> None:
    pass


@ledger_group.command("audit")
@with_appcontext
def audit() -> None:
    """Prove every balance equals the sum of its journal rows and agrees with its
    documents (reserved: open shipments; inbound: open purchase-order lines plus
    transfers in transit; inspection: returns awaiting disposition); exit 1 on
    any difference."""
    with read_only(db.sessions) as session:
        report = run_audit(session)
    for diff in report.differences:
        click.echo(f"DIFFERENCE {diff}", err=True)
    if not report.clean:
        click.echo(f"audit FAILED: {len(report.differences)} difference(s) in "
                   f"{report.positions_checked} positions", err=True)
        sys.exit(1)
    click.echo(f"audit clean: {report.positions_checked} positions match the journal "
               f"and their documents")


class Instant(click.ParamType):
    """An ISO 8601 instant with a UTC offset or ``Z``, seconds' fractions allowed: what
    ``ledger history`` prints as ``created_at`` is a valid value."""

    name = "instant"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 instant such as "
                      f"2026-11-01T12:00:00+00:00", param, ctx)
        if parsed.tzinfo is None:
            self.fail(f"{value!r} needs a UTC offset, e.g. +00:00 or Z", param, ctx)
        try:
            return parsed.astimezone(dt.timezone.utc)
        except OverflowError:
            self.fail(f"{value!r} is outside the years 1-9999 in UTC", param, ctx)


@ledger_group.command("balances")
@click.option("--sku")
@click.option("--node")
@click.option("--as-of", "as_of", type=Instant(),
              help="reconstruct from the journal as of this instant (with a UTC offset, e.g. "
                   "2026-11-01T12:00:00+00:00; a created_at of `ledger history` will do)")
@with_appcontext
def balances(sku, node, as_of) -> None:
    """Balances per (SKU, node) and bucket, as JSON lines."""
    try:
        with read_only(db.sessions) as session:
            rows = (queries.balances_as_of(session, as_of, sku=sku, node=node) if as_of
                    else queries.balances(session, sku=sku, node=node))
    except LedgerError as err:
        raise click.UsageError(err.message) from err
    for row in rows:
        click.echo(json.dumps(row.to_dict()))


@ledger_group.command("history")
@click.argument("sku")
@click.argument("node")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--before-id", type=click.IntRange(1, DB_INT_MAX),
              help="page: movements older than this id")
@with_appcontext
def history(sku, node, limit, before_id) -> None:
    """Movements of SKU at NODE, newest first, as JSON lines."""
    try:
        with read_only(db.sessions) as session:
            rows = queries.history(session, sku, node, limit=limit, before_id=before_id)
    except LedgerError as err:
        raise click.UsageError(err.message) from err
    for row in rows:
        click.echo(json.dumps(row))


# Kinds whose balances documents own: posting one by hand leaves the document
# behind (a release with no cancelled shipment leaves reserved below the units its
# open shipments hold, and every later reoptimisation fails). Refused without --force.
ORDERS = ("the order flow: POST /api/v1/orders (reserve), /orders/{id}/cancel (release), "
          "/orders/{id}/shipments/{shipment}/ship (ship), or `stockroute reoptimize`")
PURCHASE_ORDERS = ("the purchase-order flow: POST /api/v1/purchase-orders/approve (po_placed), "
                   "/purchase-orders/{code}/receipts (receive), "
                   "/purchase-orders/{code}/cancel (po_cancelled)")
RETURNS = ("the returns flow: POST /api/v1/returns, then /returns/{code}/receive "
           "(return_received), /returns/{code}/disposition (restock, scrap, quarantine)")
DOCUMENT_KINDS = {
    "reserve": ORDERS, "release": ORDERS, "ship": ORDERS,
    "po_placed": PURCHASE_ORDERS, "receive": PURCHASE_ORDERS, "po_cancelled": PURCHASE_ORDERS,
    "return_received": RETURNS, "restock": RETURNS, "scrap": RETURNS, "quarantine": RETURNS,
}


@ledger_group.command("post")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("sku")
@click.argument("qty", type=int)
@click.argument("node")
@click.option("--to-node", help="destination node (transfer_out only)")
@click.option("--from-node", help="the node that shipped the units (transfer_in only)")
@click.option("--key", "idempotency_key", help="idempotency key: a retry applies nothing twice")
@click.option("--note")
@click.option("--actor", default="cli", show_default=True)
@click.option("--force", is_flag=True,
              help="post a kind that documents own (orders, purchase orders, returns) anyway; "
                   "the audit will then report the document difference until it is corrected")
@with_appcontext
def post(kind, sku, qty, node, to_node, from_node, idempotency_key, note, actor, force) -> None:
    """Post one movement (e.g. ``count_gain TEE-BLK-M 10 DC-EAST``).

    Counts, holds and transfers post freely. Kinds that orders, purchase orders
    or returns own (reserve, release, ship, po_placed, receive, po_cancelled,
    return_received, restock, scrap, quarantine) are refused unless --force is
    given: use their document flow instead."""
    if kind in DOCUMENT_KINDS and not force:
        click.echo(f"error (kind): {kind} belongs to a document and would leave it behind the "
                   f"ledger; use {DOCUMENT_KINDS[kind]}. To correct the ledger by hand anyway, "
                   f"repeat with --force (then `stockroute ledger audit`).", err=True)
        sys.exit(2)
    try:
        movement = Movement(kind, sku, qty, node, to_node=to_node, note=note,
                            doc_type="manual", source_node=from_node)
        with unit_of_work(db.sessions) as session:
            result = post_movements(session, [movement], idempotency_key=idempotency_key,
                                    actor=actor)
    except LedgerError as err:
        click.echo(f"error ({err.field or 'request'}): {err.message}", err=True)
        sys.exit(1)
    click.echo(json.dumps({**result.to_dict(), "replayed": result.replayed}))


commands = [ledger_group]
