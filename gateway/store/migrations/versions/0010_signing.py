"""signing: evidence records of ended deliveries; the audit chain's version per entry

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa

from gateway.store.tables import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('evidence',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('record_jws', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_evidence_delivery_id_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    op.create_index(op.f('ix_evidence_delivery_id'), 'evidence', ['delivery_id'])
    with op.batch_alter_table('audit_entries') as batch:
        batch.add_column(sa.Column('chain_version', sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_entries') as batch:
        batch.drop_column('chain_version')
    op.drop_index(op.f('ix_evidence_delivery_id'), table_name='evidence')
    op.drop_table('evidence')
