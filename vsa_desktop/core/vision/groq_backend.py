"""The cloud vision backend: a Groq (or other OpenAI-compatible) vision-language model."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vsa_desktop.core import ratelimit, taxonomy
from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import VisionError
from vsa_desktop.core.logsafety import has_credentials
from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.result import VisionResult
from vsa_desktop.core.settings import CREDENTIALS_IN_URL
from vsa_desktop.core.vision import groq_protocol as proto
from vsa_desktop.core.vision.vlm_answer import parse_answer
from vsa_desktop.core.vision.vlm_image import PreparedImage, prepare_image, smaller

if TYPE_CHECKING:
    import groq

    from vsa_desktop.core.imaging import LoadedImage

log = logging.getLogger(__name__)

PROMPT_FILE = ("prompts", "vision_emotion.txt")
MAX_COMPLETION_TOKENS = 2048
MAX_REQUESTS = 12  # hard bound on requests per analysis, whatever the server says
SERVER_RETRY_PAUSE_S = 1.0
RATE_LIMIT_TRIES = 3  # requests answered 429 before giving up (the free tier often says 429 twice)
RATE_LIMIT_BACKOFF_S = 1.0  # first wait when the server names none; doubled each time
BATCH_MAX_WAIT_S = 600.0  # in a batch run, longer waits than this fail the row (quota used up)


@dataclass
class _Attempt:
    """The state of one analysis while it retries."""

    model: str
    image: PreparedImage
    extra: dict[str, Any]
    shrunk: bool = False
    rate_limited: int = 0
    waited_s: float = 0.0
    retried: bool = False
    params_dropped: bool = False
    requests: int = 0
    log: list[str] = field(default_factory=list)


class GroqVisionBackend:
    """Scores the emotion an image expresses with a cloud vision-language model.

    Uses the official ``groq`` SDK; any OpenAI-compatible server works through ``base_url``.
    """

    name = "groq"

    def __init__(
        self,
        models: list[str],
        api_key: str | None,
        base_url: str | None = None,
        timeout_s: float = 30,
        max_side: int = 1568,
        on_model_switched: Callable[[str], None] | None = None,
        max_retry_wait_s: float = 15,
    ) -> None:
        """Create the backend; no network and no SDK import happen here.

        Args:
            models: model ids in order of preference (``Settings.vision_model_preference()``).
            api_key: the key (``secrets.get_api_key()``); None or empty fails with ``no_key``.
            base_url: the server; empty means ``GROQ_BASE_URL`` or Groq itself. Both
                ``https://host`` (Groq style) and ``https://host/v1`` (OpenAI style) work.
            timeout_s: seconds to wait for one answer.
            max_side: longest side of the image sent.
            on_model_switched: called with the new model id when a retired model is replaced.
            max_retry_wait_s: the most time spent waiting after 429s in one analysis (up to
                ``RATE_LIMIT_TRIES`` requests, the server's ``retry-after`` honoured, else
                1 s then 2 s); a server that asks for longer fails at once.
        """
        self._models = [m for m in models if m]
        self._api_key = (api_key or "").strip()
        self._base_url = base_url or None
        self.timeout_s = float(timeout_s)
        self.max_side = int(max_side)
        self._on_model_switched = on_model_switched
        self.max_retry_wait_s = float(max_retry_wait_s)
        self._dead: set[str] = set()
        self._refused: dict[str, set[str]] = {}
        self._client: groq.Groq | None = None

    @property
    def model(self) -> str:
        """The model the next request goes to."""
        return self._models[0] if self._models else ""

    def analyze(
        self, image: LoadedImage, warnings: list[str], cancel: CancelToken | None = None
    ) -> VisionResult:
        """Send the image and the prompt, and return the validated reading.

        Raises:
            VisionError: with kind ``no_key``, ``auth``, ``rate_limit``, ``too_large``,
                ``model_gone``, ``timeout``, ``network``, ``server``, ``request``,
                ``bad_response``, ``unusable_answer`` or ``install``; neither message nor
                detail contains the API key.
            Cancelled: when ``cancel`` is set between requests.
        """
        check(cancel)
        if not self._api_key:
            raise VisionError(proto.NO_KEY, kind="no_key")
        if not self._models:
            raise VisionError("No vision model is set; add one in Settings.", kind="model_gone")
        own: list[str] = []
        try:
            result = self._run(image, own, cancel)
        except VisionError as exc:
            raise proto.scrubbed(exc, self._api_key) from None
        finally:
            warnings.extend(proto.scrub(w, self._api_key) for w in own)
            self.close()  # backends are often made per request: never leave sockets open
        return result

    def close(self) -> None:
        """Close the HTTP connections; ``analyze`` does it itself and opens them again."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _run(
        self, image: LoadedImage, warnings: list[str], cancel: CancelToken | None
    ) -> VisionResult:
        import groq

        prompt = _load_prompt()
        model = self._models[0]
        attempt = _Attempt(model, prepare_image(image.pixels, self.max_side), self._extra(model))
        limiter = ratelimit.current()  # a batch run's limit, shared by all its workers
        while attempt.requests < MAX_REQUESTS:
            check(cancel)
            if limiter is not None:
                limiter.acquire(cancel)
            attempt.requests += 1
            try:
                text = self._complete(prompt, attempt)
            except groq.APIError as exc:
                self._recover(exc, attempt, image, warnings, cancel)
                continue
            answer = parse_answer(text, warnings)
            label, confidence = taxonomy.top(answer.scores)
            description = proto.scrub(answer.description, self._api_key)
            return VisionResult(
                backend=self.name,
                model=attempt.model,
                scores=answer.scores,
                label=label,
                confidence=confidence,
                description=description,
                faces=(),
                cues=tuple(
                    dataclasses.replace(c, text=proto.scrub(c.text, self._api_key))
                    for c in answer.cues
                ),
            )
        raise VisionError(proto.GAVE_UP, detail="; ".join(attempt.log), kind="server")

    def _complete(self, prompt: str, attempt: _Attempt) -> str | None:
        """One chat-completions request; returns the answer text."""
        import groq

        content = [
            {"type": "text", "text": prompt},
            {"type": "image_url", "image_url": {"url": attempt.image.data_url}},
        ]
        try:
            response = self._get_client().chat.completions.create(
                model=attempt.model,
                messages=[{"role": "user", "content": content}],  # type: ignore[list-item, misc]
                **attempt.extra,
            )
        except groq.BadRequestError as exc:
            failed = proto.failed_generation(exc)  # JSON mode refused the text: read it anyway
            if failed is None:
                raise
            return failed
        except ValueError as exc:  # a 200 whose body is not JSON (captive portal, wrong URL)
            raise VisionError(
                proto.BAD_RESPONSE, detail=str(exc)[:300], kind="bad_response"
            ) from None
        return _answer_text(response)

    def _recover(
        self,
        exc: groq.APIError,
        attempt: _Attempt,
        image: LoadedImage,
        warnings: list[str],
        cancel: CancelToken | None,
    ) -> None:
        """Change ``attempt`` so the next request may succeed, or raise the VisionError."""
        import groq

        status = getattr(exc, "status_code", None)
        attempt.log.append(f"{attempt.model}: {type(exc).__name__} {status or ''}".strip())
        log.info("vision request failed: %s", attempt.log[-1])
        if proto.is_model_gone(exc):
            self._switch_model(attempt, warnings)
        elif status == 400 and not attempt.params_dropped and self._drop_params(exc, attempt):
            attempt.params_dropped = True
        elif status == 413 and not attempt.shrunk:
            attempt.image = smaller(image.pixels, attempt.image)
            attempt.shrunk = True
        elif status == 429 and ratelimit.current() is not None:
            self._hold_off_run(exc, attempt)
        elif status == 429 and attempt.rate_limited < RATE_LIMIT_TRIES - 1:
            self._wait_for_rate_limit(exc, attempt, cancel)
        elif _transient(exc, groq) and not attempt.retried:
            ratelimit.sleep_checked(min(SERVER_RETRY_PAUSE_S, self.max_retry_wait_s), cancel)
            attempt.retried = True
        else:
            raise proto.to_vision_error(exc, attempt.model, self.timeout_s, self._api_key)

    def _drop_params(self, exc: groq.APIError, attempt: _Attempt) -> bool:
        refused = proto.refused_params(exc, list(attempt.extra))
        for name in refused:
            attempt.extra.pop(name, None)
        self._refused.setdefault(attempt.model, set()).update(refused)
        return bool(refused)

    def _wait_for_rate_limit(
        self, exc: groq.APIError, attempt: _Attempt, cancel: CancelToken | None
    ) -> None:
        """Wait before the next try, within what is left of ``max_retry_wait_s``."""
        asked = proto.retry_after_s(exc)
        left = self.max_retry_wait_s - attempt.waited_s
        if left <= 0 or (asked is not None and asked > left):
            raise proto.rate_limited(asked)
        wait = asked if asked is not None else RATE_LIMIT_BACKOFF_S * 2**attempt.rate_limited
        wait = min(wait, left)
        ratelimit.sleep_checked(wait, cancel)
        attempt.waited_s += wait
        attempt.rate_limited += 1

    def _hold_off_run(self, exc: groq.APIError, attempt: _Attempt) -> None:
        """In a batch run: pause every worker for as long as the service asks, then retry.

        The run slows down instead of failing rows; a wait beyond ``BATCH_MAX_WAIT_S`` (a
        daily quota that is used up) fails the row with the service's reason.
        """
        limiter = ratelimit.current()
        assert limiter is not None
        asked = proto.retry_after_s(exc)
        backoff = min(60.0, RATE_LIMIT_BACKOFF_S * 2**attempt.rate_limited)
        wait = asked if asked is not None else backoff
        if wait > BATCH_MAX_WAIT_S:
            raise proto.rate_limited(asked)
        limiter.hold_off(wait)
        attempt.rate_limited += 1

    def _switch_model(self, attempt: _Attempt, warnings: list[str]) -> None:
        """Replace a retired model by the first preferred model the service lists."""
        import groq

        dead = attempt.model
        self._dead.add(dead)
        try:
            listed = self._listed_models()
        except groq.APIError as exc:
            raise proto.to_vision_error(exc, dead, self.timeout_s, self._api_key) from None
        alive = [m for m in self._models if m not in self._dead]
        choice = next((m for m in alive if m in listed), None)
        if choice is None:
            raise VisionError(
                f"Vision model {dead} was retired and none of the preferred models is "
                "offered by the service; add an available vision model in Settings.",
                detail=f"preferred: {', '.join(self._models)}; listed: {', '.join(sorted(listed))}",
                kind="model_gone",
            )
        self._models = [choice] + [m for m in alive if m != choice]
        attempt.model = choice
        attempt.extra = self._extra(choice)
        attempt.params_dropped = False
        warnings.append(f"Vision model {dead} was retired; switched to {choice}.")
        log.warning("vision model %s retired; switched to %s", dead, choice)
        self._notify_switch(choice)

    def _notify_switch(self, model: str) -> None:
        if self._on_model_switched is None:
            return
        try:
            self._on_model_switched(model)
        except Exception:  # persisting the switch must not lose the analysis
            log.exception("could not remember the switch to vision model %s", model)

    def _listed_models(self) -> set[str]:
        try:
            page = self._get_client().models.list()
        except ValueError as exc:  # a 200 whose body is not JSON
            raise VisionError(
                proto.BAD_RESPONSE, detail=str(exc)[:300], kind="bad_response"
            ) from None
        data = getattr(page, "data", None)
        entries = data if isinstance(data, list) else []
        return {
            str(getattr(m, "id", ""))
            for m in entries
            if getattr(m, "id", None) and getattr(m, "active", True) is not False
        }

    def _extra(self, model: str) -> dict[str, Any]:
        # Every field but model and messages is optional: an endpoint that refuses one with
        # a 400 gets the request once more without it.
        extra: dict[str, Any] = {
            "temperature": 0.2,
            "max_completion_tokens": MAX_COMPLETION_TOKENS,
            "response_format": {"type": "json_object"},
        }
        if "qwen" in model.lower():
            # Qwen models reason by default: switch reasoning off and keep any out of the text.
            extra["reasoning_effort"] = "none"
            extra["reasoning_format"] = "hidden"
        refused = self._refused.get(model, set())
        return {k: v for k, v in extra.items() if k not in refused}

    def _get_client(self) -> groq.Groq:
        if self._client is None:
            import groq

            base_url, path_prefix = proto.resolve_base_url(self._base_url)
            if base_url and has_credentials(base_url):
                # httpx would send them as Basic auth and log them in every request line.
                raise VisionError(CREDENTIALS_IN_URL, kind="request")
            http_client = None
            if path_prefix is not None:
                http_client = groq.DefaultHttpxClient(
                    event_hooks={"request": [proto.openai_path_hook(path_prefix)]}
                )
            # max_retries=0: the SDK would sleep up to 60 s on a retry-after; the retries
            # here are bounded and interruptible instead.
            self._client = groq.Groq(
                api_key=self._api_key,
                base_url=base_url,
                timeout=self.timeout_s,
                max_retries=0,
                http_client=http_client,
            )
        return self._client


def _answer_text(response: Any) -> str | None:
    """The first choice's text, or None when the reply does not have the expected shape."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        return None
    content = getattr(getattr(choices[0], "message", None), "content", None)
    return content if isinstance(content, str) else None


def _transient(exc: Exception, groq: Any) -> bool:
    """A 5xx or a dropped connection (a timeout already waited long enough)."""
    if isinstance(exc, groq.APITimeoutError):
        return False
    if isinstance(exc, groq.APIConnectionError):
        return True
    return isinstance(exc, groq.APIStatusError) and exc.status_code >= 500


def _load_prompt() -> str:
    path = resource_path(*PROMPT_FILE)
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise VisionError(
            "The vision prompt file is missing from this installation; reinstall VSA Desktop.",
            detail=f"{path}: {exc}",
            kind="install",
        ) from None
