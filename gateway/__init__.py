"""The MARRI exchange gateway: canonical messages checked against the law, delivered per channel."""
