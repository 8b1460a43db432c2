"""evaluation history and disputes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluation_disputes',
    sa.Column('evaluation_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('raised_version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raised_by', sa.String(length=64), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.evaluation_id'], name=op.f('fk_evaluation_disputes_evaluation_id')),
    sa.ForeignKeyConstraint(['raised_by'], ['agents.agent_id'], name=op.f('fk_evaluation_disputes_raised_by')),
    sa.PrimaryKeyConstraint('evaluation_id', 'item_id', 'raised_version', name=op.f('pk_evaluation_disputes'))
    )
    with op.batch_alter_table('evaluation_disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_disputes_raised_at'), ['raised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_disputes_raised_by'), ['raised_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_disputes_resolved_at'), ['resolved_at'], unique=False)

    op.create_table('evaluation_versions',
    sa.Column('evaluation_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('total_score', sa.Float(), nullable=True),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.evaluation_id'], name=op.f('fk_evaluation_versions_evaluation_id')),
    sa.PrimaryKeyConstraint('evaluation_id', 'version', name=op.f('pk_evaluation_versions'))
    )
    with op.batch_alter_table('evaluation_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_versions_at'), ['at'], unique=False)

    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))

    # Evaluations stored before this revision become version 1 of their history.
    bind = op.get_bind()
    meta = sa.MetaData()
    ev = sa.Table("evaluations", meta, autoload_with=bind)
    items = sa.Table("evaluation_items", meta, autoload_with=bind)
    versions = sa.Table("evaluation_versions", meta, autoload_with=bind)
    bind.execute(ev.update().values(version=1))
    answers: dict = {}
    for e, i, a, c in bind.execute(sa.select(items.c.evaluation_id, items.c.item_id, items.c.answer, items.c.item_comment)):
        answers.setdefault(e, {})[i] = [a, c]
    rows = [
        {"evaluation_id": r.evaluation_id, "version": 1, "action": "import", "status": r.status or "submitted",
         "total_score": r.total_score, "answers": json.dumps(answers.get(r.evaluation_id, {}), ensure_ascii=False, sort_keys=True),
         "comment": r.comment, "actor": r.inspector_id, "at": r.evaluated_at, "reason": None}
        for r in bind.execute(sa.select(ev))
    ]
    for k in range(0, len(rows), 5000):
        bind.execute(versions.insert(), rows[k:k + 5000])



def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('evaluation_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_versions_at'))

    op.drop_table('evaluation_versions')
    with op.batch_alter_table('evaluation_disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_disputes_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_evaluation_disputes_raised_by'))
        batch_op.drop_index(batch_op.f('ix_evaluation_disputes_raised_at'))

    op.drop_table('evaluation_disputes')
