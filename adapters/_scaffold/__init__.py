"""Templates ``marri-gateway adapters new NAME`` copies to start a channel (see ``scaffold.py``)."""
