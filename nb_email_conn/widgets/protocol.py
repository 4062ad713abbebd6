"""Kernel side of the widgets' request/reply protocol (the quak pattern).

The front end sends ``{"kind": "request", "id", "method", "params"}``; the kernel ALWAYS
answers ``{"kind": "reply", "id", "ok": True, "result"}`` or
``{"kind": "reply", "id", "ok": False, "error": {"type", "message", "field"}}``.
``{"kind": "cancel", "id"}`` marks a request as no longer wanted. The shapes are typed in
``messages.py`` (``RequestMessage``, ``ReplyOk``, ``ReplyError``, ``CancelMessage``).

Slow handlers (a login to a slow server) run on a worker thread, so the kernel keeps
handling messages meanwhile; replies are sent from that thread (ipykernel's IOPub socket
is thread-safe).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..errors import EmailConnError, InvalidInputError
from .messages import ErrorInfo, ReplyError, ReplyMessage, ReplyOk

logger = logging.getLogger(__name__)

_MAX_ID_LENGTH = 100
_MAX_MESSAGE_LENGTH = 2000


@dataclass
class Call:
    """One request being handled: its id, whether the front end cancelled it, and work to
    run after the reply went out (so the UI hears back before a long follow-up starts)."""

    id: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    after_reply: list[Callable[[], None]] = field(default_factory=list)


Handler = Callable[[dict[str, Any], Call], Any]


SECRET_PARAMS = frozenset({"password", "client_secret"})
"""Request params that carry a secret: cut out of any error message sent back."""


def error_info(exc: BaseException, secrets: tuple[str, ...] = ()) -> ErrorInfo:
    """The reply's ``error`` object. Known errors keep their message; anything else gets a
    short generic text. Any secret passed in the request is cut out, whatever raised."""
    if isinstance(exc, EmailConnError):
        message = str(exc)
        kind = type(exc).__name__
    else:
        message = f"Unexpected error ({type(exc).__name__}): {exc}"
        kind = "InternalError"
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    field = getattr(exc, "field", None)
    return ErrorInfo(type=kind, message=message[:_MAX_MESSAGE_LENGTH], field=field if isinstance(field, str) else None)


class RequestRouter:
    """Dispatches a widget's custom messages to handlers and replies to every request."""

    def __init__(self, widget: Any, *, thread_name: str = "nec-widget") -> None:
        self._widget = widget
        self._handlers: dict[str, tuple[Handler, bool]] = {}
        self._calls: dict[str, Call] = {}
        self._lock = threading.Lock()
        self._thread_name = thread_name
        self._executor: ThreadPoolExecutor | None = None
        widget.on_msg(self._on_msg)

    def register(self, method: str, handler: Handler, *, slow: bool = False) -> None:
        self._handlers[method] = (handler, slow)

    def handle(self, content: Any) -> None:
        """Handle one message as if it came from the front end (tests call this directly).

        ``content`` should be a ``RequestMessage`` or a ``CancelMessage``; it comes from the
        browser, so every field is checked, and anything else is ignored or answered with an error.
        """
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        request_id = content.get("id")
        if not isinstance(request_id, str) or not 0 < len(request_id) <= _MAX_ID_LENGTH:
            return  # without a usable id there is nobody to reply to
        if kind == "cancel":
            with self._lock:
                call = self._calls.get(request_id)
            if call is not None:
                call.cancelled.set()
            return
        if kind != "request":
            return
        method = content.get("method")
        params = content.get("params", {})
        entry = self._handlers.get(method) if isinstance(method, str) else None
        if entry is None:
            self._reply_error(request_id, InvalidInputError(f"unknown request {method!r}.", field="method"))
            return
        if not isinstance(params, dict):
            self._reply_error(request_id, InvalidInputError("request params must be an object.", field="params"))
            return
        handler, slow = entry
        call = Call(request_id)
        with self._lock:
            self._calls[request_id] = call
        if slow:
            self._pool().submit(self._run, handler, params, call)
        else:
            self._run(handler, params, call)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix=self._thread_name)
        return self._executor

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self.handle(content)

    def _run(self, handler: Handler, params: dict[str, Any], call: Call) -> None:
        secrets = tuple(value for key, value in params.items() if key in SECRET_PARAMS and isinstance(value, str))
        try:
            result = handler(params, call)
        except Exception as exc:
            # Never the traceback's locals or the params: they may hold the password or a client secret.
            logger.debug("widget request %s failed: %s", call.id, type(exc).__name__)
            self._reply_error(call.id, exc, secrets)
        else:
            self._send(ReplyOk(kind="reply", id=call.id, ok=True, result=result))
        finally:
            with self._lock:
                self._calls.pop(call.id, None)
        for follow_up in call.after_reply:
            try:
                follow_up()
            except Exception:
                logger.exception("widget follow-up after request %s failed", call.id)

    def _reply_error(self, request_id: str, exc: BaseException, secrets: tuple[str, ...] = ()) -> None:
        self._send(ReplyError(kind="reply", id=request_id, ok=False, error=error_info(exc, secrets)))

    def _send(self, content: ReplyMessage) -> None:
        try:
            self._widget.send(content)
        except Exception:
            # The comm may be closed (the view went away); the front end then has its timeout.
            logger.debug("could not send a widget reply", exc_info=True)
