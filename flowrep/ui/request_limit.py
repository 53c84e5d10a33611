"""A cap on the size of a request's body, in front of Gradio.

Gradio reads an event's whole JSON body into memory and parses it before any handler of ours can
check what it holds, so one visitor's 500 MB request would take the server's memory. This ASGI
middleware refuses a body over the cap with 413 before Gradio reads it: at once where the request
says its length, and as soon as the cap is passed where it streams the body in chunks. Uploads are
Gradio's own (`max_file_size`, written to disk as they arrive) and pass through.

The cap leaves room for the largest webcam frame the page counts: a 1920×1080 JPEG data URL is under
3 MB even of pure noise (a camera's is well under 1 MB), and a larger frame is refused with its own
message after decoding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest request body (not an upload) the server reads.
MAX_REQUEST_MB = 16
#: Gradio's upload route: its size is Gradio's `max_file_size`.
_UPLOAD_PATH_END = "/gradio_api/upload"


class RequestSizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes` (uploads excepted)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_REQUEST_MB * 1024 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith(_UPLOAD_PATH_END):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:  # the server holds the body to this length
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(send)
            else:
                await self.app(scope, receive, send)
            return
        # A body in chunks: read up to the cap here, then hand it on as one (FastAPI would turn an
        # error raised while it reads into a vague 400).
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
        handed_on = False

        async def receive_read_body() -> Message:
            nonlocal handed_on
            if handed_on:
                return await receive()
            handed_on = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, receive_read_body, send)

    async def _refuse(self, send: Send) -> None:
        text = f"The request is larger than the server's {self.max_bytes // (1024 * 1024)} MB limit."
        body = text.encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
