"""The OpenCode routers, one per resource."""
