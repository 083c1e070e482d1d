"""The FastAPI application: routers are registered here, one per file."""
