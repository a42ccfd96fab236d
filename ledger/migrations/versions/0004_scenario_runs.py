"""scenario runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 20:54:21.391672
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('scenario_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scenario', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('report_dir', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_runs'))
    )



def downgrade() -> None:

    op.drop_table('scenario_runs')

