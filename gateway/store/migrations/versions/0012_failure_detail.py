"""failure detail and breaker transitions: the destination's scrubbed error code and text per
attempt; per channel, how often its breaker opened, let a probe through and closed again

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.add_column(sa.Column('remote_code', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('remote_text', sa.String(length=250), nullable=True))
    with op.batch_alter_table('channel_states') as batch:
        for name in ('breaker_opened', 'breaker_half_opened', 'breaker_closed'):
            batch.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default='0')
            )


def downgrade() -> None:
    with op.batch_alter_table('channel_states') as batch:
        for name in ('breaker_closed', 'breaker_half_opened', 'breaker_opened'):
            batch.drop_column(name)
    with op.batch_alter_table('attempts') as batch:
        batch.drop_column('remote_text')
        batch.drop_column('remote_code')
