"""Answers from the channels: received, correlated to what we sent, made canonical, stored.

``receive.InboundService`` takes an answer (pushed to ``POST /v1/channels/{channel}/inbound`` or
fetched by ``poller``), stores it durably and idempotently on the channel's own message id,
correlates it (``correlate``) and builds the canonical ``kind: reply`` message (``canonical``).
``hooks.on_reply_stored`` is where notifications join the same transaction.
"""
