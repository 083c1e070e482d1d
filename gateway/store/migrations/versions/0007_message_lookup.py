"""message lookup: the keyed hash of the case reference, and indexes to find a message by it
and by its trace id (the intake's or an attempt's)

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('case_ref_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_messages_trace_id', 'messages', ['trace_id'])
    op.create_index('ix_messages_case_ref_hash', 'messages', ['case_ref_hash'])
    op.create_index('ix_attempts_trace_id', 'attempts', ['trace_id'])


def downgrade() -> None:
    op.drop_index('ix_attempts_trace_id', table_name='attempts')
    op.drop_index('ix_messages_case_ref_hash', table_name='messages')
    op.drop_index('ix_messages_trace_id', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('case_ref_hash')
