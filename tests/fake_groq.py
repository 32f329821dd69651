"""A real HTTP server on 127.0.0.1 that speaks the OpenAI-compatible chat protocol, scriptably.

Tests queue canned replies (status, headers, body, delay, dropped connection) and read back
every request the client made (path, headers, JSON body). The real groq SDK talks to it
through ``base_url`` or ``GROQ_BASE_URL``; nothing in the SDK is patched.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODELS = ("qwen/qwen3.8-27b", "meta-llama/llama-4-maverick-17b-128e-instruct")


@dataclass
class Reply:
    """One canned reply.

    Attributes:
        status: HTTP status.
        body: a JSON-able object, or text sent as is; ignored when ``content`` is set.
        content: when set, the reply is a chat completion whose message has this text
            (the ``model`` field echoes the request's model).
        headers: extra response headers (e.g. ``retry-after``).
        delay: seconds to wait before answering (the server stops waiting on shutdown).
        drop: close the connection without answering.
    """

    status: int = 200
    body: Any = None
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Recorded:
    """A request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    at: float


def completion(content: str | None, model: str = "fake-model") -> dict[str, Any]:
    """A ``chat.completion`` body with one choice."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def error_body(
    message: str, code: str | None = None, type_: str = "invalid_request_error", **extra: Any
) -> dict[str, Any]:
    """A Groq-style error body ``{"error": {...}}``."""
    error: dict[str, Any] = {"message": message, "type": type_}
    if code is not None:
        error["code"] = code
    error.update(extra)
    return {"error": error}


def ok(content: str, **kwargs: Any) -> Reply:
    """A 200 chat completion with ``content``."""
    return Reply(content=content, **kwargs)


def fail(
    status: int,
    message: str,
    code: str | None = None,
    type_: str = "invalid_request_error",
    extra: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Reply:
    """An error reply; ``extra`` goes into the error object, ``kwargs`` to ``Reply``."""
    return Reply(status=status, body=error_body(message, code, type_, **(extra or {})), **kwargs)


def scores_json(scores: dict[str, Any], description: str = "A face.") -> str:
    """The answer text a well-behaved model gives."""
    return json.dumps({"description": description, "scores": scores})


class FakeGroq:
    """The server. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(self) -> None:
        self.chat: deque[Reply] = deque()
        self.models_replies: deque[Reply] = deque()
        self.models: list[str] = list(DEFAULT_MODELS)
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the SDK adds ``/openai/v1/...``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGroq:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGroq:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def queue(self, *replies: Reply) -> None:
        """Queue replies for ``/chat/completions``, answered in order."""
        with self._lock:
            self.chat.extend(replies)

    def chat_requests(self) -> list[Recorded]:
        """The recorded chat-completion requests, in order."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def models_requests(self) -> list[Recorded]:
        """The recorded ``/models`` requests."""
        return [r for r in self.requests if r.path.endswith("/models")]

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self, path: str) -> Reply:
        with self._lock:
            if path.endswith("/chat/completions"):
                if self.chat:
                    return self.chat.popleft()
                return Reply(500, error_body("fake server: no reply queued", "unscripted"))
            if path.endswith("/models"):
                if self.models_replies:
                    return self.models_replies.popleft()
                data = [_model_entry(m) for m in self.models]
                return Reply(200, {"object": "list", "data": data})
        return Reply(404, error_body(f"unknown path {path}", "unknown_url"))


def _model_entry(model_id: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": 0,
        "owned_by": "fake",
        "active": True,
        "context_window": 131072,
    }


def _make_handler(fake: FakeGroq) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake._record(Recorded(self.command, self.path, headers, body, raw, time.monotonic()))
            reply = fake._next(self.path)
            if reply.delay and fake._stopping.wait(reply.delay):
                return
            if reply.drop:
                self.close_connection = True
                return
            self._answer(reply, body)

        def _answer(self, reply: Reply, request_body: Any) -> None:
            if reply.content is not None:
                model = (request_body or {}).get("model", "fake-model")
                payload: Any = completion(reply.content, model)
            else:
                payload = reply.body
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout test): nothing to answer
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler
