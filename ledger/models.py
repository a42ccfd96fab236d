"""SQLAlchemy models: master data, stock positions, the movement journal, documents.

Quantities are integers (units). Money is stored as Numeric and handled as
Decimal in the database; the optimizers take floats.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
    MetaData, Numeric, String, Text, UniqueConstraint, func,
)
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledger.movements import ACCOUNTS, BUCKETS, legal_pairs_sql

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NODE_KINDS = ("warehouse", "3pl", "store", "dropship")
ORDER_STATUSES = ("received", "routed", "released", "shipped", "delivered",
                  "backordered", "on_hold", "cancelled")
PO_STATUSES = ("draft", "placed", "partially_received", "received", "cancelled")
RETURN_STATUSES = ("authorised", "received", "restocked", "scrapped", "quarantined")

Money = Numeric(14, 4)
Code = String(128)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UtcDateTime(TypeDecorator):
    """An instant (``TIMESTAMP WITH TIME ZONE``): written in UTC, read back aware.

    SQLite keeps no offset: without this an instant given at +05:00 was stored as its
    wall-clock time, as if it were UTC, and every instant came back without an offset.
    Naive values are taken as UTC, as everywhere in the service."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --------------------------------------------------------------------------- master data

class Sku(Base):
    __tablename__ = "skus"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    name: Mapped[str] = mapped_column(String(256))
    category: Mapped[str] = mapped_column(String(128), default="general")
    unit_cost: Mapped[Decimal] = mapped_column(Money, default=0)
    price: Mapped[Decimal] = mapped_column(Money, default=0)
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 4), nullable=True)
    volume_l: Mapped[Decimal | None] = mapped_column(Numeric(12, 4), nullable=True)
    case_pack: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (
        CheckConstraint("case_pack >= 1", name="case_pack_positive"),
        CheckConstraint("unit_cost >= 0 AND price >= 0", name="money_non_negative"),
    )


class Node(Base):
    __tablename__ = "nodes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    name: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16), default="warehouse")
    region: Mapped[str] = mapped_column(String(64))
    capacity_units_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    capacity_orders_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    receiving_capacity_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    handling_cost_per_order: Mapped[Decimal] = mapped_column(Money, default=0)
    handling_cost_per_unit: Mapped[Decimal] = mapped_column(Money, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (CheckConstraint(_in("kind", NODE_KINDS), name="kind_known"),)


class Lane(Base):
    __tablename__ = "lanes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    region: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(32), default="standard")
    cost_per_shipment: Mapped[Decimal] = mapped_column(Money, default=0)
    cost_per_unit: Mapped[Decimal] = mapped_column(Money, default=0)
    transit_days: Mapped[int] = mapped_column(Integer)
    node: Mapped[Node] = relationship()
    __table_args__ = (
        UniqueConstraint("node_id", "region", "service", name="uq_lanes_node_region_service"),
        CheckConstraint("transit_days >= 0", name="transit_non_negative"),
    )


class ChannelNode(Base):
    __tablename__ = "channel_nodes"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)


class Channel(Base):
    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    backorder_penalty_per_unit: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    # Empty = every node may serve this channel.
    nodes: Mapped[list[Node]] = relationship(secondary="channel_nodes", order_by="Node.code")


class Supplier(Base):
    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    lead_time_days: Mapped[int] = mapped_column(Integer)
    lead_time_std_days: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=0)
    capacity_units_per_period: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fixed_order_cost: Mapped[Decimal] = mapped_column(Money, default=0)
    __table_args__ = (CheckConstraint("lead_time_days >= 0", name="lead_time_non_negative"),)


class SupplierItem(Base):
    __tablename__ = "supplier_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    moq: Mapped[int] = mapped_column(Integer, default=0)
    supplier: Mapped[Supplier] = relationship()
    sku: Mapped[Sku] = relationship()
    __table_args__ = (
        UniqueConstraint("supplier_id", "sku_id", name="uq_supplier_items_supplier_sku"),
        CheckConstraint("moq >= 0 AND unit_cost >= 0", name="non_negative"),
    )


class SkuNodeSetting(Base):
    """Per (SKU, node) planning settings: promise buffer and safety stock."""

    __tablename__ = "sku_node_settings"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    promise_buffer: Mapped[int] = mapped_column(Integer, default=0)
    safety_stock: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None = computed
    service_level: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)
    __table_args__ = (
        CheckConstraint("promise_buffer >= 0", name="buffer_non_negative"),
        CheckConstraint("safety_stock IS NULL OR safety_stock >= 0", name="safety_non_negative"),
        CheckConstraint("service_level IS NULL OR (service_level > 0 AND service_level < 1)",
                        name="service_level_range"),
    )


# --------------------------------------------------------------------------- the ledger

class StockPosition(Base):
    """Current balance of every bucket of one SKU at one node.

    One row per (sku, node) so that a reservation is one conditional UPDATE of
    one row. The CHECK constraints are the last line of defence against a
    negative balance; the posting code never relies on reaching them.
    """

    __tablename__ = "stock_positions"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    hold: Mapped[int] = mapped_column(BigInteger, default=0)
    inspection: Mapped[int] = mapped_column(BigInteger, default=0)
    inbound: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = tuple(
        CheckConstraint(f"{b} >= 0", name=f"{b}_non_negative") for b in BUCKETS
    ) + (Index("ix_stock_positions_node_sku", "node_id", "sku_id"),)


class MovementRow(Base):
    """The journal. Rows are never updated or deleted (a trigger refuses it)."""

    __tablename__ = "movements"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    qty: Mapped[int] = mapped_column(BigInteger)
    from_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"), nullable=True)
    from_bucket: Mapped[str] = mapped_column(String(16))
    to_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"), nullable=True)
    to_bucket: Mapped[str] = mapped_column(String(16))
    doc_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    doc_id: Mapped[str | None] = mapped_column(Code, nullable=True)
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # transfer_in only: the node that shipped the units (null on rows from before 0006).
    source_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"), nullable=True)
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint(legal_pairs_sql(), name="legal_transition"),
        CheckConstraint(
            f"({_in('from_bucket', BUCKETS)} AND from_node_id IS NOT NULL) OR "
            f"({_in('from_bucket', ACCOUNTS)} AND from_node_id IS NULL)",
            name="from_place"),
        CheckConstraint(
            f"({_in('to_bucket', BUCKETS)} AND to_node_id IS NOT NULL) OR "
            f"({_in('to_bucket', ACCOUNTS)} AND to_node_id IS NULL)",
            name="to_place"),
        Index("ix_movements_sku_from", "sku_id", "from_node_id", "id"),
        Index("ix_movements_sku_to", "sku_id", "to_node_id", "id"),
        Index("ix_movements_created_at", "created_at"),
        Index("ix_movements_doc", "doc_type", "doc_id"),
    )


class InTransit(Base):
    """Units sent by ``transfer_out`` from one node to another and not yet received.

    Part of the destination's ``inbound`` bucket, kept per route so that a
    ``transfer_in`` can only take units its from-node actually sent; like a
    stock position, it changes by conditional UPDATE and never goes negative.
    """

    __tablename__ = "in_transit"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    from_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    to_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    qty: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (CheckConstraint("qty >= 0", name="qty_non_negative"),)


class IdempotencyRecord(Base):
    """The first result of a request carrying an idempotency key.

    A key is unique within its scope (the operation it was sent to), so two
    clients of different operations may pick the same key without colliding.
    """

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="done")
    response: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


# --------------------------------------------------------------------------- documents

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    region: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(32), default="standard")
    ship_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    max_shipments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_transit_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    backorder_penalty_per_unit: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    customer_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    promised_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="received")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow,
                                                    onupdate=utcnow)
    channel: Mapped[Channel] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order",
                                                  order_by="OrderLine.line_no",
                                                  cascade="all, delete-orphan")
    history: Mapped[list[OrderStatusChange]] = relationship(order_by="OrderStatusChange.id",
                                                            cascade="all, delete-orphan")
    shipments: Mapped[list[Shipment]] = relationship(order_by="Shipment.id",
                                                     cascade="all, delete-orphan")
    __table_args__ = (
        CheckConstraint(_in("status", ORDER_STATUSES), name="status_known"),
        Index("ix_orders_status_created", "status", "created_at"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    # Units of this line waiting for stock, and why (a routing backorder reason).
    qty_backordered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    backorder_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    order: Mapped[Order] = relationship(back_populates="lines")
    sku: Mapped[Sku] = relationship()
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line"),
        CheckConstraint("qty > 0", name="qty_positive"),
    )


class OrderStatusChange(Base):
    __tablename__ = "order_status_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


SHIPMENT_STATUSES = ("planned", "released", "shipped", "delivered", "cancelled")


class Shipment(Base):
    """One (order, node) pair that ships units: the routing contract's shipment."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    transit_days: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Decimal] = mapped_column(Money, default=0)
    explanation: Mapped[str | None] = mapped_column(Text, nullable=True)
    carrier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracking: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                            nullable=True)
    node: Mapped[Node] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment",
                                                     order_by="ShipmentLine.id",
                                                     cascade="all, delete-orphan")
    __table_args__ = (
        CheckConstraint(_in("status", SHIPMENT_STATUSES), name="status_known"),
        Index("ix_shipments_node_status", "node_id", "status"),
        Index("ix_shipments_created_at", "created_at"),
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"),
                                             index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)


EXCEPTION_STATUSES = ("open", "acknowledged", "snoozed", "resolved")
SEVERITIES = ("info", "warning", "critical")


class ExceptionItem(Base):
    """One entry of the planners' exceptions queue."""

    __tablename__ = "exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    status: Mapped[str] = mapped_column(String(16), default="open")
    message: Mapped[str] = mapped_column(Text)
    order_code: Mapped[str | None] = mapped_column(Code, nullable=True)
    sku_code: Mapped[str | None] = mapped_column(Code, nullable=True)
    node_code: Mapped[str | None] = mapped_column(Code, nullable=True)
    po_code: Mapped[str | None] = mapped_column(Code, nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                             nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                           nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (
        CheckConstraint(_in("status", EXCEPTION_STATUSES), name="status_known"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity_known"),
        Index("ix_exceptions_status_kind", "status", "kind", "created_at"),
    )


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    status: Mapped[str] = mapped_column(String(24), default="draft")
    expected_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    placed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    supplier: Mapped[Supplier] = relationship()
    node: Mapped[Node] = relationship()
    lines: Mapped[list[PurchaseOrderLine]] = relationship(back_populates="purchase_order",
                                                          order_by="PurchaseOrderLine.id",
                                                          cascade="all, delete-orphan")
    __table_args__ = (CheckConstraint(_in("status", PO_STATUSES), name="status_known"),)


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    qty_ordered: Mapped[int] = mapped_column(Integer)
    qty_received: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    expected_date: Mapped[dt.date] = mapped_column(Date)
    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    sku: Mapped[Sku] = relationship()
    __table_args__ = (
        CheckConstraint("qty_ordered > 0 AND qty_received >= 0", name="qty_valid"),
    )


class Return(Base):
    __tablename__ = "returns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Code, unique=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    qty: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="authorised")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(),
                                                           nullable=True)
    order_line: Mapped[OrderLine] = relationship()
    node: Mapped[Node] = relationship()
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint(_in("status", RETURN_STATUSES), name="status_known"),
    )


class DailyDemand(Base):
    """Units ordered per (SKU, node, day): the history forecasting reads.

    Kept as a summary so that a 90-day history of a few hundred thousand
    order lines does not have to be scanned for every plan.
    """

    __tablename__ = "daily_demand"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)




class ScenarioRun(Base):
    """A finished what-if run: its scenario, KPI summary and where its report is."""

    __tablename__ = "scenario_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    scenario: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)
    runs: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    report_dir: Mapped[str | None] = mapped_column(Text, nullable=True)


__all__ = [name for name in dir() if name[0].isupper()] + ["utcnow", "func"]
