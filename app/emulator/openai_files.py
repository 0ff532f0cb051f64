"""OpenAI Files API subset: upload (multipart), retrieve, download content."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from frugalflow.emulator.errors import ApiError, bad_request
from frugalflow.emulator.file_store import FILE_PURPOSES, StoredFile
from frugalflow.emulator.state import STATE_KEY

MAX_FILE_BYTES = 512 * 1024 * 1024


def get_file(request: web.Request, file_id: str) -> StoredFile:
    stored = request.app[STATE_KEY].files.get(file_id)
    if stored is None:
        raise ApiError(404, f"No such File object: {file_id}", param="id")
    return stored


async def handle_upload(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if not request.content_type.startswith("multipart/"):
        raise bad_request("Expected a multipart/form-data upload", param="file")
    filename: str | None = None
    content: bytes | None = None
    purpose: str | None = None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename = part.filename or "upload.jsonl"
            content = bytes(await part.read())
            if len(content) > MAX_FILE_BYTES:
                raise ApiError(413, "File is too large", param="file")
        elif part.name == "purpose":
            purpose = await part.text()
    if content is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    if purpose not in FILE_PURPOSES:
        raise bad_request(f"Invalid value for 'purpose': {purpose!r}.", param="purpose")
    stored = state.files.add(filename or "upload.jsonl", purpose, content)
    state.stats.files_created += 1
    # Multipart bodies are not logged by the middleware; keep a summary instead.
    state.stats.log_body(
        "POST /v1/files", {"filename": stored.filename, "purpose": purpose, "bytes": len(content)}
    )
    return web.json_response(stored.to_json())


async def handle_retrieve(request: web.Request) -> web.Response:
    return web.json_response(get_file(request, request.match_info["file_id"]).to_json())


async def handle_content(request: web.Request) -> web.Response:
    stored = get_file(request, request.match_info["file_id"])
    return web.Response(body=stored.content, content_type="application/octet-stream")


def routes() -> list[web.RouteDef]:
    return [
        web.post("/v1/files", handle_upload),
        web.get("/v1/files/{file_id}", handle_retrieve),
        web.get("/v1/files/{file_id}/content", handle_content),
    ]
