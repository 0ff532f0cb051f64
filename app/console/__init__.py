"""The web console: static HTML, CSS and JS served by ``frugalflow api`` at ``/``.

The pages hold no data: the browser asks the admin API for it with the token the user
typed (kept in ``sessionStorage``, sent as ``Authorization: Bearer``), so the console has
exactly the API's authorization (read-only token: view; admin token: also change budgets
and policies), no cookie, hence nothing to forge across sites. ``routes`` serves the files
under a strict Content-Security-Policy (no inline script or style, nothing from elsewhere).
"""

from frugalflow.console.routes import add_console

__all__ = ["add_console"]
