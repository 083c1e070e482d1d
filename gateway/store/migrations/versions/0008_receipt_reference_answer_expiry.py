"""receipt references as an indexed column; retention dates of unmatched answers

Revision ID: 0008
Revises: 0007

A channel that quotes only its own reference is correlated through
``deliveries.receipt_reference`` (indexed with the channel) instead of a LIKE over
``receipt_json``; existing receipts are copied into it. Unmatched answers get ``expires_at``
(existing ones: 90 days after they came, the default of
``MARRI_RETENTION_UNMATCHED_ANSWER_DAYS``) and ``purged_at``.
"""

import json
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

from gateway.store.tables import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

REFERENCE_MAX = 200
UNMATCHED_DAYS = 90
BATCH = 500


def _backfill_references(conn: sa.Connection) -> None:
    deliveries = sa.table(
        'deliveries',
        sa.column('id', sa.String()),
        sa.column('receipt_json', sa.Text()),
        sa.column('receipt_reference', sa.String()),
    )
    rows = conn.execute(
        sa.select(deliveries.c.id, deliveries.c.receipt_json).where(
            deliveries.c.receipt_json.is_not(None)
        )
    ).all()
    updates = []
    for row in rows:
        try:
            reference = json.loads(row.receipt_json).get('reference')
        except (ValueError, AttributeError):
            continue
        if isinstance(reference, str) and 0 < len(reference) <= REFERENCE_MAX:
            updates.append({'b_id': row.id, 'b_reference': reference})
    statement = (
        sa.update(deliveries)
        .where(deliveries.c.id == sa.bindparam('b_id'))
        .values(receipt_reference=sa.bindparam('b_reference'))
    )
    for start in range(0, len(updates), BATCH):
        conn.execute(statement, updates[start:start + BATCH])


def _backfill_expiry(conn: sa.Connection) -> None:
    inbound = sa.table(
        'inbound_messages',
        sa.column('id', sa.String()),
        sa.column('status', sa.String()),
        sa.column('received_at', UTCDateTime()),
        sa.column('expires_at', UTCDateTime()),
    )
    rows = conn.execute(
        sa.select(inbound.c.id, inbound.c.received_at).where(inbound.c.status == 'unmatched')
    ).all()
    updates = [
        {'b_id': r.id, 'b_expires': r.received_at + timedelta(days=UNMATCHED_DAYS)} for r in rows
    ]
    statement = (
        sa.update(inbound)
        .where(inbound.c.id == sa.bindparam('b_id'))
        .values(expires_at=sa.bindparam('b_expires', type_=UTCDateTime()))
    )
    for start in range(0, len(updates), BATCH):
        conn.execute(statement, updates[start:start + BATCH])


def upgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('receipt_reference', sa.String(length=200), nullable=True))
    op.create_index(
        op.f('ix_deliveries_channel_receipt_reference'),
        'deliveries',
        ['channel', 'receipt_reference'],
        unique=False,
    )
    with op.batch_alter_table('inbound_messages') as batch:
        batch.add_column(sa.Column('expires_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('purged_at', UTCDateTime(), nullable=True))
    op.create_index(
        op.f('ix_inbound_messages_expires_at'), 'inbound_messages', ['expires_at'], unique=False
    )
    conn = op.get_bind()
    _backfill_references(conn)
    _backfill_expiry(conn)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_messages_expires_at'), table_name='inbound_messages')
    with op.batch_alter_table('inbound_messages') as batch:
        batch.drop_column('purged_at')
        batch.drop_column('expires_at')
    op.drop_index(op.f('ix_deliveries_channel_receipt_reference'), table_name='deliveries')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('receipt_reference')
