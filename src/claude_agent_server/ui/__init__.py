"""The web dashboard: a page served at ``GET /ui`` (``GET /`` redirects there) and its
static files, shipped inside this package (no CDN, no build step; plain ES modules).

The page talks to the server's own API with the API key in a header (``/events``,
``/sessions``, ``/stats``, ...); the only route of its own is ``POST /ui/sessions``,
which creates a session recorded with origin ``dashboard``.
"""

from .routes import install

__all__ = ["install"]
