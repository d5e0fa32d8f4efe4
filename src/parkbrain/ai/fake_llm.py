"""The one allowed fake: a local OpenAI-compatible chat endpoint with scripted answers.

A stdlib ``http.server`` in a thread on a free loopback port speaks ``POST /v1/chat/completions``. Its
answers come from a script — a list (a queue, one reply per request) or a function of the request — and
every request is recorded. Tests use it as a context manager; so can anyone trying the LLM path
offline::

    with FakeLLM([tool_reply("structured_query", {"metric": "electricity_kwh"})]) as fake:
        config = fake.config()          # an LLMConfig pointing at the fake
        ...
        fake.requests[0]["messages"]    # what the model was sent

Replies: ``tool_reply`` (a tool call), ``text_reply`` (content only, e.g. JSON for servers without
tools), ``error_reply`` (an HTTP error status), each with an optional ``delay_s``. ``tools=False``
makes the server refuse requests that carry ``tools`` with HTTP 400, as older vLLM and llama.cpp do.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from parkbrain.ai.llm import LLMConfig


@dataclass(frozen=True)
class FakeReply:
    """One scripted answer: HTTP status, JSON body, extra headers and a delay before answering."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Script = Iterable[FakeReply] | Callable[[dict[str, Any]], FakeReply]


def tool_reply(name: str, arguments: dict[str, Any] | str, delay_s: float = 0.0) -> FakeReply:
    """The model calls tool ``name`` with ``arguments`` (a dict, or raw text to send it malformed)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": text}}
    return FakeReply(
        body=_completion({"role": "assistant", "content": None, "tool_calls": [call]}), delay_s=delay_s
    )


def text_reply(content: str, delay_s: float = 0.0) -> FakeReply:
    """The model answers with text only."""
    return FakeReply(body=_completion({"role": "assistant", "content": content}), delay_s=delay_s)


def error_reply(status: int, message: str = "error", retry_after: float | None = None) -> FakeReply:
    """The endpoint fails with HTTP ``status`` and an OpenAI-style error body."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return FakeReply(status=status, body={"error": {"message": message, "type": "fake"}}, headers=headers)


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


class FakeLLM:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1 (a free port), recording its requests."""

    def __init__(self, script: Script, *, tools: bool = True, api_key: str | None = None) -> None:
        self._next = script if callable(script) else _queue(list(script))
        self.tools = tools
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` (still known after ``stop``, for messages that name it)."""
        if self._url is None:
            raise RuntimeError("the fake LLM is not started; use it as a context manager")
        return self._url

    def config(self, **overrides: Any) -> LLMConfig:
        """An ``LLMConfig`` for this endpoint (fast retries; ``overrides`` replace any field)."""
        settings: dict[str, Any] = {
            "base_url": self.base_url,
            "model": "fake-model",
            "api_key": self.api_key,
            "timeout_s": 10.0,
            "backoff_s": 0.01,
        }
        return LLMConfig(**{**settings, **overrides})

    def start(self) -> FakeLLM:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self._url = f"http://{host}:{port}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, request: dict[str, Any], headers: dict[str, str]) -> FakeReply:
        """Record the request and pick its scripted reply."""
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                return error_reply(401, "Incorrect API key provided")
            if not self.tools and request.get("tools"):
                return error_reply(400, "tools are not supported by this server")
            return self._next(request)


def _queue(replies: list[FakeReply]) -> Callable[[dict[str, Any]], FakeReply]:
    def next_reply(_request: dict[str, Any]) -> FakeReply:
        if not replies:
            return error_reply(500, "the fake LLM's script is used up")
        return replies.pop(0)

    return next_reply


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                return self._send(error_reply(400, "the request body is not JSON"))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                return self._send(error_reply(404, f"no route {self.path}"))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.answer(request, headers)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            self._send(reply, _usage(request, reply))

        def _send(self, reply: FakeReply, usage: dict[str, int] | None = None) -> None:
            body = dict(reply.body)
            if usage and reply.status == 200:
                body["usage"] = usage
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

    return Handler


def _usage(request: dict[str, Any], reply: FakeReply) -> dict[str, int]:
    """Token counts in the fake's own crude measure (characters / 4), so callers see usage reported."""
    prompt = len(json.dumps(request.get("messages", []), ensure_ascii=False)) // 4 + 1
    completion = len(json.dumps(reply.body.get("choices", []), ensure_ascii=False)) // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
