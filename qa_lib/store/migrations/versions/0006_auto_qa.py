"""auto-QA: automatic answers, rule-hit reviews and the acceptance gate's decisions (issue #19)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auto_answers',
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.String(length=200), nullable=True),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('rule_id', sa.String(length=200), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('turn', sa.Integer(), nullable=True),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('scored_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.contact_id'], name=op.f('fk_auto_answers_contact_id')),
    sa.PrimaryKeyConstraint('contact_id', 'scorecard_id', 'item_id', 'source', name=op.f('pk_auto_answers'))
    )
    with op.batch_alter_table('auto_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auto_answers_scored_at'), ['scored_at'], unique=False)

    op.create_table('rule_reviews',
    sa.Column('review_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('rule_id', sa.String(length=200), nullable=False),
    sa.Column('verdict', sa.String(length=200), nullable=False),
    sa.Column('inspector_id', sa.String(length=64), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.contact_id'], name=op.f('fk_rule_reviews_contact_id')),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.inspector_id'], name=op.f('fk_rule_reviews_inspector_id')),
    sa.PrimaryKeyConstraint('review_id', name=op.f('pk_rule_reviews'))
    )
    with op.batch_alter_table('rule_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_reviews_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_reviews_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_reviews_reviewed_at'), ['reviewed_at'], unique=False)

    op.create_table('autoqa_gate',
    sa.Column('scorecard_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('validated_at', sa.DateTime(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=True),
    sa.Column('abstain_rate', sa.Float(), nullable=True),
    sa.Column('ac1', sa.Float(), nullable=True),
    sa.Column('ac1_lo', sa.Float(), nullable=True),
    sa.Column('ac1_hi', sa.Float(), nullable=True),
    sa.Column('kappa', sa.Float(), nullable=True),
    sa.Column('kappa_lo', sa.Float(), nullable=True),
    sa.Column('kappa_hi', sa.Float(), nullable=True),
    sa.Column('inspectors_ac1', sa.Float(), nullable=True),
    sa.Column('inspectors_lo', sa.Float(), nullable=True),
    sa.Column('inspectors_hi', sa.Float(), nullable=True),
    sa.Column('diff_lo', sa.Float(), nullable=True),
    sa.Column('n_needed', sa.Integer(), nullable=True),
    sa.Column('na_auto_only', sa.Integer(), nullable=True),
    sa.Column('na_human_only', sa.Integer(), nullable=True),
    sa.Column('confusion', sa.Text(), nullable=True),
    sa.Column('margin', sa.Float(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('drifted', sa.Boolean(), nullable=True),
    sa.Column('reason_zh', sa.Text(), nullable=True),
    sa.Column('reason_en', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('scorecard_id', 'item_id', 'source', 'version', name=op.f('pk_autoqa_gate'))
    )
    with op.batch_alter_table('autoqa_gate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autoqa_gate_validated_at'), ['validated_at'], unique=False)


def downgrade() -> None:
    op.drop_table('autoqa_gate')
    op.drop_table('rule_reviews')
    op.drop_table('auto_answers')
