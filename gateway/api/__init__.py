"""The HTTP edge: routers that authenticate, call the services and translate their answers."""
