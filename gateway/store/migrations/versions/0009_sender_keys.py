"""sender keys: agencies' public signing keys, and the verified signature of each signed message

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

from gateway.store.tables import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sender_keys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=8), nullable=False),
    sa.Column('jwk_json', sa.Text(), nullable=False),
    sa.Column('thumbprint', sa.String(length=64), nullable=False),
    sa.Column('not_before', UTCDateTime(), nullable=False),
    sa.Column('not_after', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sender_keys')),
    sa.UniqueConstraint('country', 'agency', 'kid', name=op.f('uq_sender_keys_country_agency_kid'))
    )
    op.create_table('message_signatures',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=8), nullable=False),
    sa.Column('jws', sa.Text(), nullable=False),
    sa.Column('verified_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_signatures_message_id_messages')),
    sa.ForeignKeyConstraint(['key_id'], ['sender_keys.id'], name=op.f('fk_message_signatures_key_id_sender_keys')),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_message_signatures'))
    )


def downgrade() -> None:
    op.drop_table('message_signatures')
    op.drop_table('sender_keys')
