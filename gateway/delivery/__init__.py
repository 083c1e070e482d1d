"""Durable delivery: the worker and what it leans on, one job per module.

claim.py             lease due deliveries in one short transaction (SKIP LOCKED / BEGIN
                     IMMEDIATE) through the claim index (``ix_deliveries_claimable``)
worker.py            the loop: claim into lanes, start attempts in free slots, record them;
                     woken by new deliveries (``gateway.store.wakeup``), else polls; graceful stop
lanes.py             per channel: sends in flight, deliveries leased ahead, pacing (what to claim)
attempt_runner.py    one attempt: open the payload, send within the lease, classify, schedule
attempt_recorder.py  finished attempts batched into one ``record.py`` transaction; stats
classify.py          receipt or exception → delivered | transient | permanent | unknown (pure)
schedule.py          next state and next_attempt_at from the stored attempt count (pure, tenacity)
breaker.py           per-channel circuit breaker and pause switch kept in ``channel_states``
record.py            attempt rows, next states and breakers of a batch in one lease-guarded
                     transaction
transitions.py       the moves operators and approvers make, and the channel overview (who
                     may, and the audit entry, are ``gateway.services``')
runner.py            running workers inside ``serve`` (lifespan) or alone (``worker`` command)
"""
