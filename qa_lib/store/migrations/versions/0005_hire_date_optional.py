"""agents.hire_date may be empty: a center whose records do not say when an agent started (issue #16)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.alter_column('hire_date', existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.alter_column('hire_date', existing_type=sa.Date(), nullable=False)
