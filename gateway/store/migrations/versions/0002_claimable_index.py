"""claim index: due deliveries of a channel in claim order

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

# Written out, not imported from gateway.store.tables: a migration must keep meaning what it
# meant when it was written, whatever the application's code says later.
CLAIMABLE_STATES_SQL = "state IN ('queued', 'retry_wait', 'unknown')"

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_deliveries_claimable',
        'deliveries',
        ['channel', 'priority_rank', 'next_attempt_at', 'id'],
        unique=False,
        sqlite_where=sa.text(CLAIMABLE_STATES_SQL),
        postgresql_where=sa.text(CLAIMABLE_STATES_SQL),
    )


def downgrade() -> None:
    op.drop_index('ix_deliveries_claimable', table_name='deliveries')
