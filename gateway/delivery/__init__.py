"""Durable delivery: the worker and what it leans on, one job per module.

claim.py     lease due deliveries in one short transaction (SKIP LOCKED / BEGIN IMMEDIATE)
worker.py    send the stored bytes, classify, record; bounded per channel; graceful stop
classify.py  receipt or exception → delivered | transient | permanent | unknown (pure)
schedule.py  next state and next_attempt_at from the stored attempt count (pure, tenacity)
breaker.py   per-channel circuit breaker and pause switch kept in ``channel_states``
record.py    the attempt row, next state and breaker in one lease-guarded transaction
actions.py   operator and approver actions, audited in the same transaction
runner.py    running workers inside ``serve`` (lifespan) or alone (``worker`` command)
"""
