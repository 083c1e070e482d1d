"""inbound answers from channels and poll cursors

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

from gateway.store.tables import UTCDateTime

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbound_messages',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('channel_message_id', sa.String(length=200), nullable=False),
        sa.Column('via', sa.String(length=8), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('message_id', sa.String(length=36), nullable=True),
        sa.Column('delivery_id', sa.String(length=36), nullable=True),
        sa.Column('sender_country', sa.String(length=2), nullable=True),
        sa.Column('channel_reference', sa.String(length=200), nullable=True),
        sa.Column('in_reply_to', sa.String(length=200), nullable=True),
        sa.Column('unmapped_codes', sa.Integer(), nullable=False),
        sa.Column('body_ciphertext', sa.LargeBinary(), nullable=True),
        sa.Column('body_key_id', sa.String(length=64), nullable=True),
        sa.Column('reply_ciphertext', sa.LargeBinary(), nullable=True),
        sa.Column('reply_key_id', sa.String(length=64), nullable=True),
        sa.Column('response_json', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_inbound_messages_delivery_id_deliveries')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_inbound_messages_message_id_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
        sa.UniqueConstraint('channel', 'channel_message_id', name=op.f('uq_inbound_messages_channel_channel_message_id')),
    )
    op.create_index(op.f('ix_inbound_messages_message_id_received_at'), 'inbound_messages', ['message_id', 'received_at'], unique=False)
    op.create_index(op.f('ix_inbound_messages_status_received_at'), 'inbound_messages', ['status', 'received_at'], unique=False)
    op.create_table(
        'inbound_cursors',
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('cursor', sa.String(length=200), nullable=True),
        sa.Column('polled_at', UTCDateTime(), nullable=True),
        sa.Column('last_error_class', sa.String(length=64), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('channel', name=op.f('pk_inbound_cursors')),
    )


def downgrade() -> None:
    op.drop_table('inbound_cursors')
    op.drop_index(op.f('ix_inbound_messages_status_received_at'), table_name='inbound_messages')
    op.drop_index(op.f('ix_inbound_messages_message_id_received_at'), table_name='inbound_messages')
    op.drop_table('inbound_messages')
