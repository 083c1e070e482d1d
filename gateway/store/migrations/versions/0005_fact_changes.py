"""fact changes: legal officers' overlay on the parties table; the facts a decision rested on

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fact_changes',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('instrument', sa.String(length=64), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('party', sa.Boolean(), nullable=False),
        sa.Column('since', sa.Date(), nullable=True),
        sa.Column('until', sa.Date(), nullable=True),
        sa.Column('confirmed', sa.Boolean(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_fact_changes')),
    )
    op.create_index(
        op.f('ix_fact_changes_instrument_country_seq'),
        'fact_changes',
        ['instrument', 'country', 'seq'],
        unique=False,
    )
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('decision_basis_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('decision_basis_json')
    op.drop_index(op.f('ix_fact_changes_instrument_country_seq'), table_name='fact_changes')
    op.drop_table('fact_changes')
