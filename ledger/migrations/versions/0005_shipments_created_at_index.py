"""index shipments by creation time (today's node capacity use reads only today's rows)

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27 01:05:00
"""
from alembic import op


revision = '0005'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_created_at')
