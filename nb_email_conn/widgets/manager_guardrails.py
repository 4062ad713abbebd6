"""The manager's Guardrails section, kernel side: the trait's value and where guardrails are kept.

The ``guardrails`` trait is ``Guardrails.to_dict()`` (``messages.GuardrailsState``);
``set_guardrails`` (``messages.SetGuardrailsParams``) checks and applies new ones. A saved
connection keeps them in ``connections.toml`` (through the backend when it can, else the
store), so ``nec.connect(name)`` comes back with the same limits. ``GuardrailsState`` is
re-exported here for ``manager.py``.
"""

from __future__ import annotations

from typing import Any

from ..config import ConnectionConfig
from ..errors import EmailConnError
from ..guardrails import Guardrails
from .messages import GuardrailsState

__all__ = ["GuardrailsState", "guardrails_state", "load_guardrails", "save_guardrails"]


def guardrails_state(rails: Guardrails) -> GuardrailsState:
    data = rails.to_dict()
    return GuardrailsState(
        allowed_recipients=data["allowed_recipients"],
        max_recipients=data["max_recipients"],
        max_sends_per_hour=data["max_sends_per_hour"],
        dry_run=data["dry_run"],
    )


def load_guardrails(backend: Any, name: str) -> Guardrails:
    """The saved guardrails of ``name`` (none when it has none or cannot be read)."""
    load = getattr(backend, "load_guardrails", None)
    try:
        if callable(load):
            return Guardrails.parse(load(name))
        from ..store import load_guardrails as stored

        return stored(name)
    except EmailConnError:
        return Guardrails()


def save_guardrails(backend: Any, config: ConnectionConfig, rails: Guardrails) -> None:
    save = getattr(backend, "save_guardrails", None)
    if callable(save):
        save(config, rails)
        return
    from ..store import save_connection  # keeps the saved password and policies

    save_connection(config, guardrails=rails)
