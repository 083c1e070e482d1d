"""What callers ask of the gateway, in one place for the API and the console alike.

Each action is one function that checks the permission table (``permissions``), opens the
transaction, writes the audit entry and raises ``gateway.errors.GatewayError`` when it refuses;
the routers and the console only translate the result into HTTP or HTML. This module imports
nothing, so that ``gateway.security.identity`` can read the role vocabulary from
``permissions`` without loading the services themselves.
"""
