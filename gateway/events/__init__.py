"""Events told to national systems: the outbox, subscriptions, the inbox and their format."""
