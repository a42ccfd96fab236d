"""units in transit per route; transfers in name their source; idempotency keys per scope

* ``in_transit`` (sku, from node, to node, qty): what ``transfer_out`` sent and
  no ``transfer_in`` has received yet. Filled from the journal: receipts
  recorded before this revision do not say where they came from, so they are
  matched against the oldest open shipments to their node first (FIFO).
* ``movements.source_node_id``: the shipping node of a ``transfer_in``
  (a new nullable column; old rows keep null, the journal is never updated).
* ``idempotency_keys``: the primary key becomes (scope, key), so the same key
  sent to two operations (an order, a ledger posting) names two requests.
  Stored rows keep their scope and their meaning.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00
"""
from collections import defaultdict, deque

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # In place: batch mode would copy the journal and drop its immutability triggers.
        op.execute('ALTER TABLE movements ADD COLUMN source_node_id INTEGER'
                   ' CONSTRAINT fk_movements_source_node_id_nodes REFERENCES nodes (id)')
    else:
        op.add_column('movements', sa.Column(
            'source_node_id', sa.Integer(),
            sa.ForeignKey('nodes.id', name=op.f('fk_movements_source_node_id_nodes')),
            nullable=True))
    op.create_table('in_transit',
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('from_node_id', sa.Integer(), nullable=False),
    sa.Column('to_node_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('qty >= 0', name=op.f('ck_in_transit_qty_non_negative')),
    sa.ForeignKeyConstraint(['from_node_id'], ['nodes.id'],
                            name=op.f('fk_in_transit_from_node_id_nodes')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_in_transit_sku_id_skus')),
    sa.ForeignKeyConstraint(['to_node_id'], ['nodes.id'],
                            name=op.f('fk_in_transit_to_node_id_nodes')),
    sa.PrimaryKeyConstraint('sku_id', 'from_node_id', 'to_node_id', name=op.f('pk_in_transit'))
    )
    _fill_in_transit()
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_constraint('pk_idempotency_keys', type_='primary')
        batch_op.create_primary_key('pk_idempotency_keys', ['scope', 'key'])


def _fill_in_transit() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT kind, sku_id, from_node_id, to_node_id, qty FROM movements"
        " WHERE kind IN ('transfer_out', 'transfer_in') ORDER BY id"))
    open_sent: dict[tuple[int, int], deque] = defaultdict(deque)  # (sku, to) -> [from, qty]
    for kind, sku_id, from_id, to_id, qty in rows:
        if kind == 'transfer_out':
            open_sent[(sku_id, to_id)].append([from_id, qty])
            continue
        queue = open_sent[(sku_id, to_id)]
        while qty and queue:
            take = min(qty, queue[0][1])
            queue[0][1] -= take
            qty -= take
            if not queue[0][1]:
                queue.popleft()
    totals: dict[tuple[int, int, int], int] = defaultdict(int)
    for (sku_id, to_id), queue in open_sent.items():
        for from_id, qty in queue:
            totals[(sku_id, from_id, to_id)] += qty
    table = sa.table('in_transit', sa.column('sku_id'), sa.column('from_node_id'),
                     sa.column('to_node_id'), sa.column('qty'))
    if totals:
        op.bulk_insert(table, [{'sku_id': s, 'from_node_id': a, 'to_node_id': b, 'qty': q}
                               for (s, a, b), q in sorted(totals.items())])


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_constraint('pk_idempotency_keys', type_='primary')
        batch_op.create_primary_key('pk_idempotency_keys', ['key'])
    op.drop_table('in_transit')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_column('movements', 'source_node_id')
        return
    # SQLite cannot drop a column that has a foreign key in place: the table is
    # copied, which drops its triggers, so they are made again (as in 0001).
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_column('source_node_id')
    op.execute("""
        CREATE TRIGGER movements_no_update BEFORE UPDATE ON movements
        BEGIN SELECT RAISE(ABORT, 'movements are immutable: UPDATE refused'); END""")
    op.execute("""
        CREATE TRIGGER movements_no_delete BEFORE DELETE ON movements
        BEGIN SELECT RAISE(ABORT, 'movements are immutable: DELETE refused'); END""")
