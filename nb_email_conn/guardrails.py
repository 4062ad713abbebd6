"""Guardrails: hard limits on what a connection may send, checked in the gate before anyone is asked.

``conn.guardrails = nec.Guardrails(allowed_recipients=["*@example.org"], max_recipients=10,
max_sends_per_hour=20, dry_run=False)``. A violation raises :class:`GuardrailError` before
the approver is asked and before any SMTP traffic; no approval, edit or tool argument lifts
a guardrail. ``dry_run=True`` makes every write function a rehearsal: nobody is asked,
nothing changes, and the call returns ``{"dry_run": True, "would": <preview>}``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import GuardrailError, InvalidInputError
from .functions import REGISTRY
from .validation import parse_addresses

SENDING_FUNCTIONS = frozenset(name for name, spec in REGISTRY.items() if spec.sends)
"""The functions that submit mail over SMTP: the ones recipients and the hourly limit apply to."""
WINDOW_SECONDS = 3600.0
_RECIPIENT_KEYS = ("to", "cc", "bcc")


def _pattern(value: Any) -> str:
    """``bob@partner.com`` or ``*@example.org``, lower-cased; anything else is refused."""
    if not isinstance(value, str):
        raise InvalidInputError(
            "allowed_recipients must be addresses or '*@domain' patterns.", field="allowed_recipients"
        )
    pattern = value.strip().lower()
    local, at, domain = pattern.rpartition("@")
    if local == "*" and at and domain and "*" not in domain:
        parse_addresses(f"x@{domain}", "allowed_recipients")  # the domain part must be a valid domain
        return pattern
    addresses = parse_addresses(pattern, "allowed_recipients") if "*" not in pattern else []
    if len(addresses) != 1 or addresses[0].name:
        raise InvalidInputError(
            f"allowed_recipients: {value[:100]!r} is neither an address nor a '*@domain' pattern.",
            field="allowed_recipients",
        )
    return addresses[0].addr.lower()


def _limit(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive whole number, or None for no limit.", field=name)
    return value


@dataclass(frozen=True)
class Guardrails:
    """Limits on what this connection may send, enforced in the kernel before any traffic.

    - ``allowed_recipients``: addresses (``bob@partner.com``) and ``*@domain`` patterns; every
      envelope recipient (To, Cc and Bcc) must match one. ``None`` = anyone.
    - ``max_recipients``: at most this many recipients per message.
    - ``max_sends_per_hour``: send, reply and forward on this connection over a sliding hour
      (a send waiting for approval holds its place until it is decided).
    - ``dry_run``: every write function asks no approval, changes nothing and returns
      ``{"dry_run": True, "would": <preview>}``.
    """

    allowed_recipients: Sequence[str] | None = None
    max_recipients: int | None = None
    max_sends_per_hour: int | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        allowed = self.allowed_recipients
        if allowed is not None:
            if isinstance(allowed, str):
                allowed = [part for part in allowed.replace(";", ",").split(",") if part.strip()]
            if not isinstance(allowed, Iterable):
                raise InvalidInputError(
                    "allowed_recipients must be a list of addresses or patterns.", field="allowed_recipients"
                )
            object.__setattr__(self, "allowed_recipients", tuple(dict.fromkeys(_pattern(p) for p in allowed)))
        object.__setattr__(self, "max_recipients", _limit(self.max_recipients, "max_recipients"))
        object.__setattr__(self, "max_sends_per_hour", _limit(self.max_sends_per_hour, "max_sends_per_hour"))
        if not isinstance(self.dry_run, bool):
            raise InvalidInputError("dry_run must be True or False.", field="dry_run")

    # -- what the rules say ----------------------------------------------------------------
    @property
    def limits_recipients(self) -> bool:
        return self.allowed_recipients is not None or self.max_recipients is not None

    @property
    def active(self) -> bool:
        return self.limits_recipients or self.max_sends_per_hour is not None or self.dry_run

    def allows(self, address: str) -> bool:
        """Whether ``address`` (a bare address) matches ``allowed_recipients``."""
        if self.allowed_recipients is None:
            return True
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        return any(address == p or (p.startswith("*@") and domain == p[2:]) for p in self.allowed_recipients)

    def check_recipients(self, function: str, recipients: Sequence[str]) -> None:
        """Refuse a message whose envelope breaks ``max_recipients`` or ``allowed_recipients``."""
        unique = list(dict.fromkeys(r.strip().lower() for r in recipients))
        if self.max_recipients is not None and len(unique) > self.max_recipients:
            raise GuardrailError(
                function,
                "max_recipients",
                f"it has {len(unique)} recipients and the guardrails allow at most {self.max_recipients} per message",
            )
        refused = [address for address in unique if not self.allows(address)]
        if refused:
            shown = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
            raise GuardrailError(
                function,
                "allowed_recipients",
                f"{shown} {'is' if len(refused) == 1 else 'are'} not in the allowed recipients "
                f"({', '.join(self.allowed_recipients or ())})",
                recipients=refused,
            )

    # -- saving ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The settings, with unset limits as None (``connections.toml`` leaves those out)."""
        allowed = self.allowed_recipients
        return {
            "allowed_recipients": list(allowed) if allowed is not None else None,
            "max_recipients": self.max_recipients,
            "max_sends_per_hour": self.max_sends_per_hour,
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Guardrails:
        data = dict(data or {})
        unknown = sorted(set(data) - {"allowed_recipients", "max_recipients", "max_sends_per_hour", "dry_run"})
        if unknown:
            raise InvalidInputError(f"unknown guardrail setting(s): {', '.join(unknown)}.", field="guardrails")
        return cls(**data)

    @classmethod
    def parse(cls, value: Guardrails | Mapping[str, Any] | None) -> Guardrails:
        if value is None:
            return cls()
        if isinstance(value, Guardrails):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise InvalidInputError("guardrails must be a nec.Guardrails (or a dict of its settings).", field="guardrails")

    def __str__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.to_dict().items() if v not in (None, False)]
        return f"Guardrails({', '.join(parts)})" if parts else "Guardrails(no limits)"


def recipients_of(details: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[str]:
    """The envelope recipients: the preview's resolved ``recipients``, else the To/Cc/Bcc arguments."""
    resolved = details.get("recipients")
    if isinstance(resolved, list | tuple):
        return [str(address) for address in resolved]
    found: list[str] = []
    for key in _RECIPIENT_KEYS:
        value = arguments.get(key)
        if value:
            found.extend(address.addr for address in parse_addresses(value, key))
    return found


@dataclass
class SendWindow:
    """The sends of one connection over the last hour, plus those admitted and not yet decided."""

    clock: Any = time.monotonic
    _times: deque[float] = field(default_factory=deque)
    _held: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _prune(self, now: float) -> None:
        while self._times and now - self._times[0] >= WINDOW_SECONDS:
            self._times.popleft()

    def used(self) -> int:
        with self._lock:
            self._prune(self.clock())
            return len(self._times) + self._held

    def check(self, function: str, limit: int | None, *, hold: bool) -> Slot | None:
        """Refuse when ``limit`` sends are used; else hold a place (``hold``) and return it."""
        if limit is None:
            return None
        with self._lock:
            now = self.clock()
            self._prune(now)
            used = len(self._times) + self._held
            if used >= limit:
                wait = WINDOW_SECONDS - (now - self._times[0]) if self._times else WINDOW_SECONDS
                raise GuardrailError(
                    function,
                    "max_sends_per_hour",
                    f"{used} message(s) were sent or are waiting for approval in the last hour and the "
                    f"guardrails allow {limit} per hour; try again in about {max(1, round(wait / 60))} minute(s)",
                )
            if not hold:
                return None
            self._held += 1
        return Slot(self)

    def _settle(self, sent: bool) -> None:
        with self._lock:
            self._held -= 1
            if sent:
                self._times.append(self.clock())


class Slot:
    """One admitted send's place in the hourly count: ``used()`` when it goes out, ``release()`` if not."""

    def __init__(self, window: SendWindow) -> None:
        self._window: SendWindow | None = window

    def used(self) -> None:
        if self._window is not None:
            self._window._settle(sent=True)
            self._window = None

    def release(self) -> None:
        if self._window is not None:
            self._window._settle(sent=False)
            self._window = None


__all__ = ["SENDING_FUNCTIONS", "GuardrailError", "Guardrails", "SendWindow", "Slot", "recipients_of"]
