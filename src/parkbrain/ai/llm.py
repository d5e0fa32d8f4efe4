"""A provider for any OpenAI-compatible chat-completions endpoint (DeepSeek, Qwen, GLM, vLLM, Ollama,
llama.cpp server …): one synchronous ``httpx`` client with a timeout, retries with backoff on 429/5xx
and connection failures, tool calls with a fallback to JSON in the message content for servers without
tools, and the latency and token usage of every call.

Configuration (``load_llm_config``): a TOML file's ``[llm]`` table (a path given, or the file named by
``PARKBRAIN_LLM_CONFIG``) or the environment::

    [llm]                         # environment variable that fills the same field
    base_url = "http://127.0.0.1:8000/v1"   # PARKBRAIN_LLM_BASE_URL
    model = "qwen2.5-7b-instruct"           # PARKBRAIN_LLM_MODEL
    api_key_env = "DEEPSEEK_API_KEY"        # or api_key = "…"; PARKBRAIN_LLM_API_KEY
    timeout_s = 60                          # PARKBRAIN_LLM_TIMEOUT_S
    max_retries = 2
    tools = "auto"                          # "auto" | true | false (false: JSON in the content)

Errors are ``ParkError`` subclasses: ``ConfigError`` for bad settings, ``UpstreamError`` when the endpoint
fails or refuses; messages name the endpoint and never the key.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parkbrain.errors import ConfigError, UpstreamError, missing_extra

try:  # pragma: no cover - depends on the Python version
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "PARKBRAIN_LLM_"
#: A TOML file with the [llm] table, when no path is given (how a server process is pointed at one).
CONFIG_ENV = "PARKBRAIN_LLM_CONFIG"
#: HTTP statuses worth another try: rate limits and server-side failures.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0
_TOOLS_MODES = ("auto", True, False)


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to call the model. ``api_key`` is never shown (``repr`` hides it)."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 60.0
    max_retries: int = 2
    backoff_s: float = 0.5
    tools: bool | str = "auto"
    temperature: float = 0.0
    max_tokens: int | None = 1024

    @property
    def endpoint(self) -> str:
        """The chat-completions URL (``base_url`` ending in /v1, or the full URL)."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def load_llm_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> LLMConfig | None:
    """The LLM settings from ``path``'s ``[llm]`` table (default: the file named by ``PARKBRAIN_LLM_CONFIG``),
    else from ``PARKBRAIN_LLM_*`` variables; None when no endpoint is configured (the assistant then
    answers offline). Values in the file win over the environment, which fills the fields the file leaves
    out."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    where = "environment"
    if path is None and env.get(CONFIG_ENV):
        path = env[CONFIG_ENV]
    if path is not None:
        raw, where = _read_llm_table(Path(path)), str(path)
    settings = {**_from_env(env), **{k: v for k, v in raw.items() if k != "api_key_env"}}
    if "api_key_env" in raw:
        settings["api_key"] = env.get(str(raw["api_key_env"])) or settings.get("api_key")
    if not settings.get("base_url"):
        if path is not None:
            raise ConfigError(
                f"{where} [llm]: missing base_url (the endpoint, e.g. http://127.0.0.1:8000/v1)"
            )
        return None
    return _build_config(settings, where)


def _read_llm_table(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such LLM config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    table = data.get("llm")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: expected an [llm] table with base_url and model")
    known = {f for f in LLMConfig.__dataclass_fields__} | {"api_key_env"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{path} [llm]: unknown key(s) {unknown}; expected some of {sorted(known)}")
    return table


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    names = {"base_url": "BASE_URL", "api_key": "API_KEY", "model": "MODEL", "timeout_s": "TIMEOUT_S"}
    return {key: env[ENV_PREFIX + var] for key, var in names.items() if env.get(ENV_PREFIX + var)}


def _build_config(s: dict[str, Any], where: str) -> LLMConfig:
    base_url = str(s["base_url"])
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise ConfigError(f"{where} llm base_url: expected an http(s) URL; got {base_url!r}")
    if not s.get("model"):
        raise ConfigError(f"{where} llm model: missing (the model name the endpoint serves)")
    tools = s.get("tools", "auto")
    if tools not in _TOOLS_MODES:
        raise ConfigError(f'{where} llm tools: expected "auto", true or false; got {tools!r}')
    return LLMConfig(
        base_url=base_url,
        model=str(s["model"]),
        api_key=str(s["api_key"]) if s.get("api_key") else None,
        timeout_s=_number(s, "timeout_s", 60.0, where),
        max_retries=int(_number(s, "max_retries", 2, where)),
        backoff_s=_number(s, "backoff_s", 0.5, where),
        tools=tools,
        temperature=_number(s, "temperature", 0.0, where),
        max_tokens=int(_number(s, "max_tokens", 1024, where)) if s.get("max_tokens", 1) else None,
    )


def _number(s: dict[str, Any], key: str, default: float, where: str) -> float:
    value = s.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} llm {key}: expected a number; got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{where} llm {key}: expected a number >= 0; got {value!r}")
    return number


# -- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallStats:
    """One HTTP round trip to the model: latency, token usage, tries, and whether tools were used."""

    latency_s: float
    prompt_tokens: int | None
    completion_tokens: int | None
    attempts: int
    tools: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_s": round(self.latency_s, 4),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "attempts": self.attempts,
            "tools": self.tools,
        }


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked for: its name and raw JSON argument text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatResult:
    """The model's reply: text content and/or tool calls, and the stats of the call."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]
    stats: CallStats
    message: dict[str, Any]  # the assistant message as received (for the conversation history)


@dataclass(frozen=True)
class Tool:
    """A function offered to the model: name, description and the JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def spec(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True)
class ToolReply:
    """What the model chose: a tool name and its arguments parsed (``error`` says why they would not
    parse), whether it came as a real tool call or as JSON in the content, and the call's stats."""

    name: str | None
    arguments: dict[str, Any] | None
    raw: str
    error: str | None
    via_tools: bool
    stats: CallStats
    message: dict[str, Any]
    call_id: str | None = None


# -- the client --------------------------------------------------------------------------------------------


class LLMClient:
    """A chat-completions client for one endpoint. ``calls`` records the stats of every call made."""

    def __init__(self, config: LLMConfig, transport: Any | None = None) -> None:
        try:
            import httpx
        except ModuleNotFoundError:  # pragma: no cover - httpx is a dependency of the llm extra
            raise missing_extra("httpx", "llm") from None
        self.config = config
        self.calls: list[CallStats] = []
        self._tools_ok: bool | None = None if config.tools == "auto" else bool(config.tools)
        headers = {"Content-Type": "application/json"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._http = httpx.Client(timeout=config.timeout_s, headers=headers, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def uses_tools(self) -> bool:
        """False once the endpoint has refused tools (or when configured so): JSON in the content then."""
        return self._tools_ok is not False

    # -- plain chat --------------------------------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[Tool] = (),
        tool_choice: str | dict[str, Any] | None = None,
    ) -> ChatResult:
        """One chat completion (with ``tools`` offered when given); retried on 429/5xx and timeouts."""
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": list(messages),
            "temperature": self.config.temperature,
        }
        if self.config.max_tokens:
            body["max_tokens"] = self.config.max_tokens
        if tools:
            body["tools"] = [t.spec() for t in tools]
            body["tool_choice"] = tool_choice or "auto"
        data, latency, attempts = self._post(body)
        return _chat_result(data, latency, attempts, bool(tools), self.config.endpoint)

    def _post(self, body: dict[str, Any]) -> tuple[dict[str, Any], float, int]:
        import httpx

        url = self.config.endpoint
        attempt, started = 0, time.perf_counter()
        while True:
            attempt += 1
            try:
                response = self._http.post(url, json=body)
            except httpx.TimeoutException:
                problem = f"did not answer within {self.config.timeout_s:g} s"
                response = None
            except httpx.TransportError as exc:
                problem = f"cannot be reached ({type(exc).__name__}: {_redact(str(exc), self.config)})"
                response = None
            if response is not None and response.status_code < 400:
                return _json_body(response, url), time.perf_counter() - started, attempt
            if response is not None:
                problem = _http_problem(response, self.config)
                if response.status_code not in RETRY_STATUSES:
                    raise _status_error(response.status_code, url, problem)
            if attempt > self.config.max_retries:
                raise UpstreamError(f"the LLM endpoint {url} {problem} (after {attempt} tries)")
            time.sleep(_backoff(self.config.backoff_s, attempt, response))

    # -- a tool call, with the JSON-in-content fallback ------------------------------------------------

    def call_tool(self, messages: Sequence[dict[str, Any]], tools: Sequence[Tool]) -> ToolReply:
        """Ask the model to call one of ``tools``. Servers without tools (llama.cpp, older vLLM) get the
        tools described in a system message and answer ``{"tool": name, "arguments": {…}}`` as text;
        an endpoint that refuses ``tools`` with HTTP 400 is switched to that mode for good."""
        if self._tools_ok is not False:
            try:
                result = self.chat(messages, tools, _tool_choice(tools))
            except UpstreamError as exc:
                if self._tools_ok is None and getattr(exc, "status", None) == 400:
                    self._tools_ok = False
                    return self.call_tool(messages, tools)
                raise
            self._record(result.stats)
            if result.tool_calls:
                self._tools_ok = True
                return _reply_from_tool_call(result, tools)
            return _reply_from_content(result, tools, via_tools=True)
        result = self.chat([_tools_as_text(tools), *messages])
        self._record(result.stats)
        return _reply_from_content(result, tools, via_tools=False)

    def complete(self, messages: Sequence[dict[str, Any]]) -> ChatResult:
        """A plain completion (no tools); its stats are recorded in ``calls``."""
        result = self.chat(messages)
        self._record(result.stats)
        return result

    def _record(self, stats: CallStats) -> None:
        self.calls.append(stats)


def open_llm_client(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> LLMClient | None:
    """A client for the configured endpoint (``load_llm_config``), or None when none is configured."""
    config = load_llm_config(path, env)
    return LLMClient(config) if config is not None else None


# -- helpers -----------------------------------------------------------------------------------------------


def _tool_choice(tools: Sequence[Tool]) -> str | dict[str, Any]:
    if len(tools) == 1:
        return {"type": "function", "function": {"name": tools[0].name}}
    return "auto"


def _tools_as_text(tools: Sequence[Tool]) -> dict[str, Any]:
    described = "\n".join(
        f"- {t.name}: {t.description}\n  arguments JSON schema: {json.dumps(t.parameters, ensure_ascii=False)}"
        for t in tools
    )
    return {
        "role": "system",
        "content": "Answer with exactly one JSON object and nothing else, of the form "
        '{"tool": "<name>", "arguments": {...}}, choosing one of these tools:\n' + described,
    }


def _reply_from_tool_call(result: ChatResult, tools: Sequence[Tool]) -> ToolReply:
    call = result.tool_calls[0]
    arguments, error = _parse_object(call.arguments)
    if call.name not in {t.name for t in tools}:
        error = f"unknown tool {call.name!r}; expected one of {[t.name for t in tools]}"
    return ToolReply(call.name, arguments, call.arguments, error, True, result.stats, result.message, call.id)


def _reply_from_content(result: ChatResult, tools: Sequence[Tool], via_tools: bool) -> ToolReply:
    text = result.content or ""
    obj, error = _parse_object(_json_text(text))
    names = [t.name for t in tools]
    name: str | None = None
    arguments = None
    if obj is not None:
        args = obj.get("arguments")
        if isinstance(args, str):  # arguments sent as JSON text, as in a real tool call
            args, _ = _parse_object(args)
        if isinstance(obj.get("tool"), str) and isinstance(args, dict):
            name, arguments = obj["tool"], args
        elif len(tools) == 1:
            name, arguments = names[0], obj  # the bare arguments of the only tool
        else:
            error = 'expected {"tool": "<name>", "arguments": {...}}'
    if name is not None and name not in names:
        error, arguments = f"unknown tool {name!r}; expected one of {names}", None
    return ToolReply(name, arguments, text, error, via_tools, result.stats, result.message)


def strip_reasoning(text: str) -> str:
    """The reply without a reasoning model's ``<think>…</think>`` block (DeepSeek-R1, Qwen3 …)."""
    return re.sub(r"<think>.*?(</think>|$)", "", text, flags=re.S).strip()


def _json_text(text: str) -> str:
    """The JSON object in a reply: inside a ```json fence, or from the first { to the last }."""
    text = strip_reasoning(text)
    fence = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.S)
    if fence:
        return fence.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _parse_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"expected a JSON object; got {type(value).__name__}"
    return value, None


def _chat_result(data: dict[str, Any], latency: float, attempts: int, tools: bool, url: str) -> ChatResult:
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise UpstreamError(f"the LLM endpoint {url} answered without choices[0].message") from None
    calls = tuple(
        ToolCall(
            str(c.get("id") or f"call_{i}"), str(fn.get("name", "")), _arguments_text(fn.get("arguments"))
        )
        for i, c in enumerate(message.get("tool_calls") or [])
        if isinstance(fn := c.get("function"), dict)
    )
    usage = data.get("usage") or {}
    stats = CallStats(latency, usage.get("prompt_tokens"), usage.get("completion_tokens"), attempts, tools)
    return ChatResult(message.get("content"), calls, stats, message)


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)  # some servers send the object itself


def _json_body(response: Any, url: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise UpstreamError(
            f"the LLM endpoint {url} answered HTTP {response.status_code} without JSON"
        ) from None
    if not isinstance(data, dict):
        raise UpstreamError(f"the LLM endpoint {url} answered a JSON {type(data).__name__}, not an object")
    return data


def _http_problem(response: Any, config: LLMConfig) -> str:
    detail = response.text[:300].strip()
    try:
        error = response.json().get("error")
        detail = error.get("message", detail) if isinstance(error, dict) else str(error or detail)
    except (ValueError, AttributeError):
        pass
    detail = _redact(detail, config)
    return f"answered HTTP {response.status_code}" + (f": {detail}" if detail else "")


def _status_error(status: int, url: str, problem: str) -> UpstreamError:
    if status in (401, 403):
        hint = "; check the API key (PARKBRAIN_LLM_API_KEY or api_key in the [llm] config)"
    elif status == 404:
        hint = "; check base_url (it usually ends in /v1) and the model name"
    else:
        hint = ""
    error = UpstreamError(f"the LLM endpoint {url} {problem}{hint}")
    error.status = status  # type: ignore[attr-defined]
    return error


def _redact(text: str, config: LLMConfig) -> str:
    if config.api_key and config.api_key in text:
        text = text.replace(config.api_key, "***")
    return re.sub(r"(sk-|Bearer\s+)[A-Za-z0-9_\-]{6,}", r"\1***", text)


def _backoff(base: float, attempt: int, response: Any | None) -> float:
    retry_after = response.headers.get("retry-after") if response is not None else None
    if retry_after:
        try:
            return min(float(retry_after), MAX_BACKOFF_S)
        except ValueError:
            pass
    return min(base * 2 ** (attempt - 1), MAX_BACKOFF_S)
