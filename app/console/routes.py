"""Serving the console's files: ``/`` (the page) and ``/console/<file>`` (its assets).

The files ship inside the package (``app/console/static``, package data) and are read
once when the app is built: nothing is fetched from the internet, nothing is built at
run time. Every answer carries a strict Content-Security-Policy and is not cached by
shared caches; the page itself is never cached so a new version shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from aiohttp import web

PREFIX = "/console/"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


def is_console_path(path: str) -> bool:
    """Paths served without a token: the page and its assets hold no data."""
    return path == "/" or path.startswith(PREFIX)


def load_assets() -> dict[str, Asset]:
    """Every file under ``static`` by its path there (``vendor/uplot/uPlot.min.css``)."""
    root = resources.files("frugalflow.console").joinpath("static")
    found: dict[str, Asset] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            name = f"{prefix}{entry.name}"
            if entry.is_dir():
                walk(entry, f"{name}/")
                continue
            suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ".txt"
            found[name] = Asset(entry.read_bytes(), _TYPES.get(suffix, _TYPES[".txt"]))

    walk(root, "")
    if "index.html" not in found:
        raise RuntimeError("the console's index.html is missing from the package")
    return found


def add_console(app: web.Application) -> None:
    """Register ``GET /`` and ``GET /console/{path}`` on the API's application."""
    assets = load_assets()

    def answer(asset: Asset, cache: str) -> web.Response:
        return web.Response(
            body=asset.body,
            headers={
                **SECURITY_HEADERS,
                "Content-Type": asset.content_type,
                "Cache-Control": cache,
            },
        )

    async def page(request: web.Request) -> web.Response:
        return answer(assets["index.html"], "no-store")

    async def asset(request: web.Request) -> web.Response:
        found = assets.get(request.match_info["path"])
        if found is None:
            # The API's error middleware answers it as its usual 404 JSON.
            raise web.HTTPNotFound(reason="no such console file")
        return answer(found, "private, max-age=300")

    app.router.add_get("/", page)
    app.router.add_get(PREFIX + "{path:.+}", asset)
