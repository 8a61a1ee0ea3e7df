"""Security headers of the dashboard's responses: a strict Content-Security-Policy
(only this origin's own scripts, styles and connections; no inline code, no remote
origins; Trusted Types required, so an ``innerHTML`` string assignment throws), no
framing, no referrer, no MIME sniffing."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
"""Added to every response of ``/ui`` and ``/ui/static/*``. ``no-cache``: revalidated
(ETag) on each load, so an upgraded server serves its new files at once."""


def secure(response: Response) -> Response:
    """``response`` with :data:`SECURITY_HEADERS` set."""
    response.headers.update(SECURITY_HEADERS)
    return response


class SecureStaticFiles(StaticFiles):
    """Starlette's static files with :data:`SECURITY_HEADERS` on every file served."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        return secure(super().file_response(*args, **kwargs))
