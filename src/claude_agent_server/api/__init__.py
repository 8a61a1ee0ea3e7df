"""HTTP layer: thin FastAPI routers, one module per resource."""
