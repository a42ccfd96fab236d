"""initial schema: master data, stock positions, the movement journal, documents

The journal is append-only: triggers refuse UPDATE and DELETE on movements
on both PostgreSQL and SQLite.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 19:41:46.733724
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('backorder_penalty_per_unit', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
    sa.UniqueConstraint('code', name=op.f('uq_channels_code'))
    )
    op.create_table('idempotency_keys',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('capacity_units_per_day', sa.Integer(), nullable=True),
    sa.Column('capacity_orders_per_day', sa.Integer(), nullable=True),
    sa.Column('receiving_capacity_per_day', sa.Integer(), nullable=True),
    sa.Column('handling_cost_per_order', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('handling_cost_per_unit', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('warehouse', '3pl', 'store', 'dropship')", name=op.f('ck_nodes_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nodes')),
    sa.UniqueConstraint('code', name=op.f('uq_nodes_code'))
    )
    op.create_table('skus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('category', sa.String(length=128), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('weight_kg', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('volume_l', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('case_pack', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('case_pack >= 1', name=op.f('ck_skus_case_pack_positive')),
    sa.CheckConstraint('unit_cost >= 0 AND price >= 0', name=op.f('ck_skus_money_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skus')),
    sa.UniqueConstraint('code', name=op.f('uq_skus_code'))
    )
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('lead_time_std_days', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('capacity_units_per_period', sa.Integer(), nullable=True),
    sa.Column('fixed_order_cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_suppliers_lead_time_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('code', name=op.f('uq_suppliers_code'))
    )
    op.create_table('channel_nodes',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_nodes_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_channel_nodes_node_id_nodes')),
    sa.PrimaryKeyConstraint('channel_id', 'node_id', name=op.f('pk_channel_nodes'))
    )
    op.create_table('daily_demand',
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_daily_demand_channel_id_channels')),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_daily_demand_node_id_nodes')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_daily_demand_sku_id_skus')),
    sa.PrimaryKeyConstraint('sku_id', 'node_id', 'day', 'channel_id', name=op.f('pk_daily_demand'))
    )
    op.create_table('lanes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('cost_per_shipment', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('cost_per_unit', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('transit_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('transit_days >= 0', name=op.f('ck_lanes_transit_non_negative')),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_lanes_node_id_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lanes')),
    sa.UniqueConstraint('node_id', 'region', 'service', name='uq_lanes_node_region_service')
    )
    op.create_table('movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('txn_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('from_node_id', sa.Integer(), nullable=True),
    sa.Column('from_bucket', sa.String(length=16), nullable=False),
    sa.Column('to_node_id', sa.Integer(), nullable=True),
    sa.Column('to_bucket', sa.String(length=16), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=True),
    sa.Column('doc_id', sa.String(length=128), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(from_bucket IN ('available', 'reserved', 'hold', 'inspection', 'inbound') AND from_node_id IS NOT NULL) OR (from_bucket IN ('supplier', 'customer', 'adjustment', 'scrap') AND from_node_id IS NULL)", name=op.f('ck_movements_from_place')),
    sa.CheckConstraint("(kind = 'po_placed' AND from_bucket = 'supplier' AND to_bucket = 'inbound') OR (kind = 'receive' AND from_bucket = 'inbound' AND to_bucket = 'available') OR (kind = 'po_cancelled' AND from_bucket = 'inbound' AND to_bucket = 'supplier') OR (kind = 'reserve' AND from_bucket = 'available' AND to_bucket = 'reserved') OR (kind = 'release' AND from_bucket = 'reserved' AND to_bucket = 'available') OR (kind = 'ship' AND from_bucket = 'reserved' AND to_bucket = 'customer') OR (kind = 'return_received' AND from_bucket = 'customer' AND to_bucket = 'inspection') OR (kind = 'restock' AND from_bucket = 'inspection' AND to_bucket = 'available') OR (kind = 'scrap' AND from_bucket = 'inspection' AND to_bucket = 'scrap') OR (kind = 'quarantine' AND from_bucket = 'inspection' AND to_bucket = 'hold') OR (kind = 'hold' AND from_bucket = 'available' AND to_bucket = 'hold') OR (kind = 'unhold' AND from_bucket = 'hold' AND to_bucket = 'available') OR (kind = 'count_gain' AND from_bucket = 'adjustment' AND to_bucket = 'available') OR (kind = 'count_loss' AND from_bucket = 'available' AND to_bucket = 'adjustment') OR (kind = 'transfer_out' AND from_bucket = 'available' AND to_bucket = 'inbound') OR (kind = 'transfer_in' AND from_bucket = 'inbound' AND to_bucket = 'available')", name=op.f('ck_movements_legal_transition')),
    sa.CheckConstraint("(to_bucket IN ('available', 'reserved', 'hold', 'inspection', 'inbound') AND to_node_id IS NOT NULL) OR (to_bucket IN ('supplier', 'customer', 'adjustment', 'scrap') AND to_node_id IS NULL)", name=op.f('ck_movements_to_place')),
    sa.CheckConstraint('qty > 0', name=op.f('ck_movements_qty_positive')),
    sa.ForeignKeyConstraint(['from_node_id'], ['nodes.id'], name=op.f('fk_movements_from_node_id_nodes')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_movements_sku_id_skus')),
    sa.ForeignKeyConstraint(['to_node_id'], ['nodes.id'], name=op.f('fk_movements_to_node_id_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_movements'))
    )
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index('ix_movements_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_movements_doc', ['doc_type', 'doc_id'], unique=False)
        batch_op.create_index('ix_movements_sku_from', ['sku_id', 'from_node_id', 'id'], unique=False)
        batch_op.create_index('ix_movements_sku_to', ['sku_id', 'to_node_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_movements_txn_id'), ['txn_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('ship_complete', sa.Boolean(), nullable=False),
    sa.Column('max_shipments', sa.Integer(), nullable=True),
    sa.Column('max_transit_days', sa.Integer(), nullable=True),
    sa.Column('backorder_penalty_per_unit', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('customer_ref', sa.String(length=128), nullable=True),
    sa.Column('promised_date', sa.Date(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('received', 'routed', 'released', 'shipped', 'delivered', 'backordered', 'on_hold', 'cancelled')", name=op.f('ck_orders_status_known')),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_orders_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('code', name=op.f('uq_orders_code'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_status_created', ['status', 'created_at'], unique=False)

    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'placed', 'partially_received', 'received', 'cancelled')", name=op.f('ck_purchase_orders_status_known')),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_purchase_orders_node_id_nodes')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('code', name=op.f('uq_purchase_orders_code'))
    )
    op.create_table('sku_node_settings',
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('promise_buffer', sa.Integer(), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=True),
    sa.Column('service_level', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.CheckConstraint('promise_buffer >= 0', name=op.f('ck_sku_node_settings_buffer_non_negative')),
    sa.CheckConstraint('safety_stock IS NULL OR safety_stock >= 0', name=op.f('ck_sku_node_settings_safety_non_negative')),
    sa.CheckConstraint('service_level IS NULL OR (service_level > 0 AND service_level < 1)', name=op.f('ck_sku_node_settings_service_level_range')),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_sku_node_settings_node_id_nodes')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_sku_node_settings_sku_id_skus')),
    sa.PrimaryKeyConstraint('sku_id', 'node_id', name=op.f('pk_sku_node_settings'))
    )
    op.create_table('stock_positions',
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('available', sa.BigInteger(), nullable=False),
    sa.Column('reserved', sa.BigInteger(), nullable=False),
    sa.Column('hold', sa.BigInteger(), nullable=False),
    sa.Column('inspection', sa.BigInteger(), nullable=False),
    sa.Column('inbound', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('available >= 0', name=op.f('ck_stock_positions_available_non_negative')),
    sa.CheckConstraint('hold >= 0', name=op.f('ck_stock_positions_hold_non_negative')),
    sa.CheckConstraint('inbound >= 0', name=op.f('ck_stock_positions_inbound_non_negative')),
    sa.CheckConstraint('inspection >= 0', name=op.f('ck_stock_positions_inspection_non_negative')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_positions_reserved_non_negative')),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_stock_positions_node_id_nodes')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_stock_positions_sku_id_skus')),
    sa.PrimaryKeyConstraint('sku_id', 'node_id', name=op.f('pk_stock_positions'))
    )
    with op.batch_alter_table('stock_positions', schema=None) as batch_op:
        batch_op.create_index('ix_stock_positions_node_sku', ['node_id', 'sku_id'], unique=False)

    op.create_table('supplier_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('moq', sa.Integer(), nullable=False),
    sa.CheckConstraint('moq >= 0 AND unit_cost >= 0', name=op.f('ck_supplier_items_non_negative')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_supplier_items_sku_id_skus')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_supplier_items_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_items')),
    sa.UniqueConstraint('supplier_id', 'sku_id', name='uq_supplier_items_supplier_sku')
    )
    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.CheckConstraint('qty > 0', name=op.f('ck_order_lines_qty_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_order_lines_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'line_no', name='uq_order_lines_order_line')
    )
    op.create_table('order_status_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_status_history_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_status_history'))
    )
    with op.batch_alter_table('order_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_status_history_order_id'), ['order_id'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('qty_ordered', sa.Integer(), nullable=False),
    sa.Column('qty_received', sa.Integer(), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=False),
    sa.CheckConstraint('qty_ordered > 0 AND qty_received >= 0', name=op.f('ck_purchase_order_lines_qty_valid')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_purchase_order_lines_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines'))
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('authorised', 'received', 'restocked', 'scrapped', 'quarantined')", name=op.f('ck_returns_status_known')),
    sa.CheckConstraint('qty > 0', name=op.f('ck_returns_qty_positive')),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_returns_node_id_nodes')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_returns_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns')),
    sa.UniqueConstraint('code', name=op.f('uq_returns_code'))
    )

    _create_journal_guards()


def downgrade() -> None:
    _drop_journal_guards()
    op.drop_table('returns')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('order_status_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_status_history_order_id'))

    op.drop_table('order_status_history')
    op.drop_table('order_lines')
    op.drop_table('supplier_items')
    with op.batch_alter_table('stock_positions', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_positions_node_sku')

    op.drop_table('stock_positions')
    op.drop_table('sku_node_settings')
    op.drop_table('purchase_orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_created')

    op.drop_table('orders')
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movements_txn_id'))
        batch_op.drop_index('ix_movements_sku_to')
        batch_op.drop_index('ix_movements_sku_from')
        batch_op.drop_index('ix_movements_doc')
        batch_op.drop_index('ix_movements_created_at')

    op.drop_table('movements')
    op.drop_table('lanes')
    op.drop_table('daily_demand')
    op.drop_table('channel_nodes')
    op.drop_table('suppliers')
    op.drop_table('skus')
    op.drop_table('nodes')
    op.drop_table('idempotency_keys')
    op.drop_table('channels')


def _create_journal_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION movements_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'movements are immutable: % refused', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER movements_no_update_delete
            BEFORE UPDATE OR DELETE ON movements
            FOR EACH ROW EXECUTE FUNCTION movements_immutable()""")
        op.execute("""
            CREATE TRIGGER movements_no_truncate
            BEFORE TRUNCATE ON movements
            FOR EACH STATEMENT EXECUTE FUNCTION movements_immutable()""")
    else:
        op.execute("""
            CREATE TRIGGER movements_no_update BEFORE UPDATE ON movements
            BEGIN SELECT RAISE(ABORT, 'movements are immutable: UPDATE refused'); END""")
        op.execute("""
            CREATE TRIGGER movements_no_delete BEFORE DELETE ON movements
            BEGIN SELECT RAISE(ABORT, 'movements are immutable: DELETE refused'); END""")


def _drop_journal_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS movements_no_truncate ON movements")
        op.execute("DROP TRIGGER IF EXISTS movements_no_update_delete ON movements")
        op.execute("DROP FUNCTION IF EXISTS movements_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS movements_no_update")
        op.execute("DROP TRIGGER IF EXISTS movements_no_delete")
