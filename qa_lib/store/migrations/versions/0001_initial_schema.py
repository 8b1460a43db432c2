"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('supervisor', sa.String(length=200), nullable=True),
    sa.Column('hire_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agents'))
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agents_hire_date'), ['hire_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_agents_team'), ['team'], unique=False)

    op.create_table('imports',
    sa.Column('import_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_imports'))
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imports_sha256'), ['sha256'], unique=False)

    op.create_table('inspectors',
    sa.Column('inspector_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('home_team', sa.String(length=200), nullable=True),
    sa.Column('is_expert', sa.Boolean(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('inspector_id', name=op.f('pk_inspectors'))
    )
    op.create_table('scorecards',
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('style', sa.String(length=200), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scorecard_id', 'version', name=op.f('pk_scorecards'))
    )
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecards_created_at'), ['created_at'], unique=False)

    op.create_table('calibration_sessions',
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('expert_inspector_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['expert_inspector_id'], ['inspectors.inspector_id'], name=op.f('fk_calibration_sessions_expert_inspector_id')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_calibration_sessions'))
    )
    with op.batch_alter_table('calibration_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_sessions_expert_inspector_id'), ['expert_inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calibration_sessions_held_on'), ['held_on'], unique=False)

    op.create_table('coaching_actions',
    sa.Column('action_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('coach', sa.String(length=200), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('items', sa.String(length=200), nullable=False),
    sa.Column('agreed_action', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('recheck_after_days', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=200), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], name=op.f('fk_coaching_actions_agent_id')),
    sa.PrimaryKeyConstraint('action_id', name=op.f('pk_coaching_actions'))
    )
    with op.batch_alter_table('coaching_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_actions_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coaching_actions_closed_on'), ['closed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_coaching_actions_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_coaching_actions_due_on'), ['due_on'], unique=False)

    op.create_table('contacts',
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('start_time', sa.DateTime(), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('direction', sa.String(length=200), nullable=False),
    sa.Column('contact_type', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=True),
    sa.Column('queue', sa.String(length=200), nullable=True),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('customer_tier', sa.String(length=200), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=200), nullable=True),
    sa.Column('brand', sa.String(length=200), nullable=True),
    sa.Column('wait_seconds', sa.Float(), nullable=True),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('abandoned', sa.Boolean(), nullable=False),
    sa.Column('talk_seconds', sa.Float(), nullable=True),
    sa.Column('hold_seconds', sa.Float(), nullable=True),
    sa.Column('acw_seconds', sa.Float(), nullable=True),
    sa.Column('transferred', sa.Boolean(), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=True),
    sa.Column('fcr', sa.Boolean(), nullable=True),
    sa.Column('recording_ref', sa.String(length=200), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('transcript_lang', sa.String(length=200), nullable=True),
    sa.Column('customer_opted_out', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], name=op.f('fk_contacts_agent_id')),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_start_time'), ['start_time'], unique=False)

    op.create_table('evaluations',
    sa.Column('evaluation_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('inspector_id', sa.String(length=64), nullable=False),
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('scorecard_version', sa.Integer(), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(), nullable=False),
    sa.Column('arm', sa.String(length=200), nullable=False),
    sa.Column('calibration_session_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=200), nullable=True),
    sa.Column('total_score', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], name=op.f('fk_evaluations_agent_id')),
    sa.ForeignKeyConstraint(['calibration_session_id'], ['calibration_sessions.session_id'], name=op.f('fk_evaluations_calibration_session_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.contact_id'], name=op.f('fk_evaluations_contact_id')),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.inspector_id'], name=op.f('fk_evaluations_inspector_id')),
    sa.PrimaryKeyConstraint('evaluation_id', name=op.f('pk_evaluations'))
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluations_calibration_session_id'), ['calibration_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluations_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluations_evaluated_at'), ['evaluated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluations_inspector_id'), ['inspector_id'], unique=False)

    op.create_table('info_checks',
    sa.Column('check_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('inspector_id', sa.String(length=64), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('has_error', sa.Boolean(), nullable=False),
    sa.Column('error_fields', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.agent_id'], name=op.f('fk_info_checks_agent_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.contact_id'], name=op.f('fk_info_checks_contact_id')),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.inspector_id'], name=op.f('fk_info_checks_inspector_id')),
    sa.PrimaryKeyConstraint('check_id', name=op.f('pk_info_checks'))
    )
    with op.batch_alter_table('info_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_checks_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_checks_checked_on'), ['checked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_checks_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_checks_inspector_id'), ['inspector_id'], unique=False)

    op.create_table('voc_feedback',
    sa.Column('feedback_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('customer_tier', sa.String(length=200), nullable=True),
    sa.Column('brand', sa.String(length=200), nullable=True),
    sa.Column('contact_id', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=200), nullable=True),
    sa.Column('csat', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.contact_id'], name=op.f('fk_voc_feedback_contact_id')),
    sa.PrimaryKeyConstraint('feedback_id', name=op.f('pk_voc_feedback'))
    )
    with op.batch_alter_table('voc_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voc_feedback_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voc_feedback_received_at'), ['received_at'], unique=False)

    op.create_table('evaluation_items',
    sa.Column('evaluation_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.String(length=200), nullable=False),
    sa.Column('item_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.evaluation_id'], name=op.f('fk_evaluation_items_evaluation_id')),
    sa.PrimaryKeyConstraint('evaluation_id', 'item_id', name=op.f('pk_evaluation_items'))
    )


def downgrade() -> None:
    op.drop_table('evaluation_items')
    with op.batch_alter_table('voc_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voc_feedback_received_at'))
        batch_op.drop_index(batch_op.f('ix_voc_feedback_contact_id'))

    op.drop_table('voc_feedback')
    with op.batch_alter_table('info_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_checks_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_info_checks_contact_id'))
        batch_op.drop_index(batch_op.f('ix_info_checks_checked_on'))
        batch_op.drop_index(batch_op.f('ix_info_checks_agent_id'))

    op.drop_table('info_checks')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluations_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_evaluations_evaluated_at'))
        batch_op.drop_index(batch_op.f('ix_evaluations_contact_id'))
        batch_op.drop_index(batch_op.f('ix_evaluations_calibration_session_id'))
        batch_op.drop_index(batch_op.f('ix_evaluations_agent_id'))

    op.drop_table('evaluations')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_start_time'))
        batch_op.drop_index(batch_op.f('ix_contacts_agent_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('coaching_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_actions_due_on'))
        batch_op.drop_index(batch_op.f('ix_coaching_actions_created_on'))
        batch_op.drop_index(batch_op.f('ix_coaching_actions_closed_on'))
        batch_op.drop_index(batch_op.f('ix_coaching_actions_agent_id'))

    op.drop_table('coaching_actions')
    with op.batch_alter_table('calibration_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_sessions_held_on'))
        batch_op.drop_index(batch_op.f('ix_calibration_sessions_expert_inspector_id'))

    op.drop_table('calibration_sessions')
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecards_created_at'))

    op.drop_table('scorecards')
    op.drop_table('inspectors')
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imports_sha256'))

    op.drop_table('imports')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agents_team'))
        batch_op.drop_index(batch_op.f('ix_agents_hire_date'))

    op.drop_table('agents')
