"""Caps on what one request can make the server hold: its body, and the picture a frame decodes to.

Gradio reads an event's whole JSON body into memory and parses it before any handler of ours can
check what it holds, so one visitor's 500 MB request would take the server's memory. This ASGI
middleware refuses a body over the cap with 413 before Gradio reads it: at once where the request
says its length, and as soon as the cap is passed where it streams the body in chunks. Uploads are
Gradio's own (`max_file_size`, written to disk as they arrive) and pass through.

The cap leaves room for the largest webcam frame the page counts: a 1920×1080 JPEG data URL is under
3 MB even of pure noise (a camera's is well under 1 MB), and a larger frame is refused with its own
message after decoding. Decoding is the other risk: a small file can hold a huge flat picture (a
2.6 MB JPEG of 13000×13000 took the server from 0.46 to 2.1 GB), and Gradio decodes a webcam frame
with Pillow before our frame checks see it; `limit_decoded_pictures` makes Pillow refuse it first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import PIL.Image

from flowrep.video import MAX_FRAME_SIDES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest request body (not an upload) the server reads.
MAX_REQUEST_MB = 16
#: The most pixels a decoded picture may have: a 4K camera's frame (twice the frame limit's long side
#: by twice its short side) still decodes and gets the frame-size message; a larger one is refused.
MAX_DECODED_PIXELS = 4 * MAX_FRAME_SIDES[0] * MAX_FRAME_SIDES[1]
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


def limit_decoded_pictures() -> None:
    """Pillow refuses to decode a picture over MAX_DECODED_PIXELS (process-wide: for the entry point).
    Pillow warns above its MAX_IMAGE_PIXELS and refuses above twice that (179 million by default)."""
    PIL.Image.MAX_IMAGE_PIXELS = MAX_DECODED_PIXELS // 2
