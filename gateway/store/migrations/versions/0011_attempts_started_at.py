"""attempts by start time: the Channels page counts the last hour's attempts on every refresh

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_attempts_started_at', 'attempts', ['started_at'])


def downgrade() -> None:
    op.drop_index('ix_attempts_started_at', table_name='attempts')
