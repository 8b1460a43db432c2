"""sampling plans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sampling_plans',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('eligible', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Text(), nullable=False),
    sa.Column('n_random', sa.Integer(), nullable=False),
    sa.Column('n_targeted', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_sampling_plans'))
    )
    with op.batch_alter_table('sampling_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampling_plans_created_at'), ['created_at'], unique=False)

    op.create_table('plan_cells',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('stratum', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=True),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('sampled', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], name=op.f('fk_plan_cells_agent_id')),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plans.plan_id'], name=op.f('fk_plan_cells_plan_id')),
    sa.PrimaryKeyConstraint('plan_id', 'agent_id', 'stratum', name=op.f('pk_plan_cells'))
    )
    with op.batch_alter_table('plan_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_cells_team'), ['team'], unique=False)

    op.create_table('plan_contacts',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('arm', sa.String(length=200), nullable=False),
    sa.Column('stratum', sa.String(length=200), nullable=True),
    sa.Column('inclusion_prob', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('inspector_id', sa.String(length=64), nullable=True),
    sa.Column('second_inspector_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], name=op.f('fk_plan_contacts_agent_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.contact_id'], name=op.f('fk_plan_contacts_contact_id')),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.inspector_id'], name=op.f('fk_plan_contacts_inspector_id')),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plans.plan_id'], name=op.f('fk_plan_contacts_plan_id')),
    sa.ForeignKeyConstraint(['second_inspector_id'], ['inspectors.inspector_id'], name=op.f('fk_plan_contacts_second_inspector_id')),
    sa.PrimaryKeyConstraint('plan_id', 'contact_id', name=op.f('pk_plan_contacts'))
    )
    with op.batch_alter_table('plan_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_contacts_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_contacts_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_contacts_second_inspector_id'), ['second_inspector_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_contacts_second_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_plan_contacts_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_plan_contacts_agent_id'))

    op.drop_table('plan_contacts')
    with op.batch_alter_table('plan_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_cells_team'))

    op.drop_table('plan_cells')
    with op.batch_alter_table('sampling_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampling_plans_created_at'))

    op.drop_table('sampling_plans')
