"""The web layer every adapter shares: the server state and its dependencies, the key check,
the request guards and body limits, SSE helpers, the domain-error table and the views of
sessions every API shows the same way. No adapter here; each adapter (``api/``,
``opencode/``, ``gateway/``, ``ui/``) imports from this package, never from another adapter."""
