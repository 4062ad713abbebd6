"""Where connection passwords live: the system keyring, or this process's memory.

Service ``nb-email-conn``, keyring user = the connection name. Passwords never appear
in a message, a repr or a log line; :class:`Secret` holds one inside objects.
Where no keyring backend works (headless Linux), the errors say so plainly and offer
``session_only=True``: we never fall back to a plaintext file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

import keyring
import keyring.errors

from .errors import InvalidInputError, SecretStoreError

SERVICE = "nb-email-conn"

# Session-only passwords: this Python process only, never written anywhere.
_session: dict[str, str] = {}
_session_lock = threading.Lock()

_NO_BACKEND_ADVICE = (
    "Unlock or start a desktop keyring (GNOME Keyring / KWallet through the Secret Service), "
    "or keep the password for this session only with session_only=True."
)


class Secret:
    """A password that does not show itself: ``str()`` and ``repr()`` give ``'********'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that sends it (LOGIN / AUTH)."""
        return self._value

    def __str__(self) -> str:
        return "********"

    def __repr__(self) -> str:
        return "Secret('********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        # Pickling (e.g. a kernel snapshot) would write the value somewhere: refuse.
        raise TypeError("a Secret cannot be pickled")


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _unusable_reason(backend: Any) -> str | None:
    """Why this backend cannot keep a password safely, or None when it can."""
    module = type(backend).__module__
    if module.startswith("keyring.backends.fail"):
        return "no keyring backend is available (common on a headless Linux server or in a container)"
    if module.startswith("keyring.backends.null"):
        return "the keyring is switched off (the 'null' backend keeps nothing)"
    if module.startswith("keyring.backends.chainer") and not list(getattr(backend, "backends", [])):
        return "the keyring chains no usable backends"
    if module.startswith("keyrings.alt") and "plaintext" in type(backend).__name__.lower():
        return "the configured backend writes passwords to a plaintext file, which nb-email-conn does not use"
    try:
        priority = float(backend.priority)
    except Exception:  # a backend whose priority check fails cannot be trusted to work
        return "the keyring backend reports that it cannot run here"
    if priority <= 0 and not module.startswith("keyring.backends.chainer"):
        return "the keyring backend reports that it cannot run here"
    return None


def keyring_status() -> tuple[bool, str]:
    """Whether passwords can be kept in the keyring, and a plain-language description."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        return False, f"The keyring could not be loaded ({type(exc).__name__}). {_NO_BACKEND_ADVICE}"
    reason = _unusable_reason(backend)
    if reason:
        return False, f"Passwords cannot be saved: {reason}. {_NO_BACKEND_ADVICE}"
    name = getattr(backend, "name", None) or _backend_name(backend)
    return True, f"Passwords are kept in the system keyring ({name})."


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("the connection name must be a non-empty string.", field="name")
    return name.strip()


def _check_password(password: str) -> str:
    # The value itself never goes into these messages.
    if not isinstance(password, str):
        raise InvalidInputError(f"password must be a string, not {type(password).__name__}.", field="password")
    if not password:
        raise InvalidInputError("password must not be empty.", field="password")
    if any(c in password for c in "\r\n\x00"):
        raise InvalidInputError(
            "password contains a line break or NUL character, which no server accepts.", field="password"
        )
    return password


def _failure(
    action: str, name: str, exc: BaseException, secret: str | None = None, what: str = "password"
) -> SecretStoreError:
    usable, description = keyring_status()
    detail = str(exc).strip()
    if secret:
        detail = detail.replace(secret, "********")
    detail = f" ({type(exc).__name__}: {detail[:300]})" if detail else f" ({type(exc).__name__})"
    try:
        backend = _backend_name(keyring.get_keyring())
    except Exception:
        backend = "unknown backend"
    hint = (
        description
        if not usable
        else (f"Unlock the keyring and try again, or keep the {what} for this session only with session_only=True.")
    )
    return SecretStoreError(
        f"could not {action} the {what} of connection {name!r} in the keyring [{backend}]{detail}. {hint}"
    )


def store_password(name: str, password: str, *, session_only: bool = False) -> Literal["keyring", "session"]:
    """Keep ``password`` for connection ``name``: in the keyring, or in memory for this process.

    Returns where it went. A keyring failure raises :class:`SecretStoreError` saying what
    happened and offering ``session_only=True``.
    """
    name = _check_name(name)
    password = _check_password(password)
    if session_only:
        with _session_lock:
            _session[name] = password
        return "session"
    usable, description = keyring_status()
    if not usable:
        raise SecretStoreError(f"could not save the password of connection {name!r}: {description}")
    try:
        keyring.set_password(SERVICE, name, password)
    except Exception as exc:
        raise _failure("save", name, exc, password) from None
    # A stale session copy would shadow the keyring value: the newest password wins.
    with _session_lock:
        _session.pop(name, None)
    return "keyring"


def remember_session_password(name: str, password: str) -> None:
    """Keep a password in memory for this process only (used by the sandbox)."""
    store_password(name, password, session_only=True)


def get_password(name: str) -> str:
    """The password of connection ``name``: the session store first, then the keyring."""
    name = _check_name(name)
    with _session_lock:
        if name in _session:
            return _session[name]
    usable, description = keyring_status()
    if not usable:
        raise SecretStoreError(
            f"no password for connection {name!r} in this session, and the keyring cannot be read: "
            f"{description} Or pass password=... when connecting."
        )
    try:
        value = keyring.get_password(SERVICE, name)
    except Exception as exc:
        raise _failure("read", name, exc) from None
    if not value:
        raise SecretStoreError(
            f"no password saved for connection {name!r}: run save_connection(..., password=...) or pass password=..."
        )
    return str(value)


def has_session_password(name: str) -> bool:
    with _session_lock:
        return name in _session


def forget_password(name: str) -> None:
    """Remove the password from the session store and the keyring; a missing one is fine."""
    name = _check_name(name)
    with _session_lock:
        _session.pop(name, None)
    usable, _ = keyring_status()
    if not usable:
        return  # nothing can have been saved in a keyring that does not work
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        pass  # not found
    except Exception as exc:
        raise _failure("remove", name, exc) from None


# --- OAuth secrets: refresh tokens and client secrets, kept exactly like passwords ------------

SecretKind = Literal["refresh_token", "client_secret"]
SERVICES: dict[SecretKind, str] = {
    "refresh_token": "nb-email-conn-oauth2",
    "client_secret": "nb-email-conn-oauth2-client",
}
"""Keyring services of the OAuth secrets (keyring user = the connection name)."""
_WHAT: dict[SecretKind, str] = {"refresh_token": "OAuth refresh token", "client_secret": "OAuth client secret"}
_session_extra: dict[tuple[SecretKind, str], str] = {}


def store_secret(
    kind: SecretKind, name: str, value: str, *, session_only: bool = False
) -> Literal["keyring", "session"]:
    """Keep an OAuth secret of connection ``name``: keyring, or this process only."""
    name = _check_name(name)
    what = _WHAT[kind]
    if not isinstance(value, str) or not value or any(c in value for c in "\r\n\x00"):
        raise InvalidInputError(f"the {what} must be a non-empty single-line string.", field=kind)
    if session_only:
        with _session_lock:
            _session_extra[(kind, name)] = value
        return "session"
    usable, description = keyring_status()
    if not usable:
        raise SecretStoreError(f"could not save the {what} of connection {name!r}: {description}")
    try:
        keyring.set_password(SERVICES[kind], name, value)
    except Exception as exc:
        raise _failure("save", name, exc, value, what) from None
    with _session_lock:
        _session_extra.pop((kind, name), None)
    return "keyring"


def secret_location(kind: SecretKind, name: str) -> Literal["keyring", "session"] | None:
    """Where an OAuth secret of ``name`` is kept, or None when there is none."""
    with _session_lock:
        if (kind, name) in _session_extra:
            return "session"
    return "keyring" if get_secret(kind, name) is not None else None


def get_secret(kind: SecretKind, name: str) -> str | None:
    """An OAuth secret of ``name`` (session store first, then the keyring); None when absent
    or when no keyring works (nothing can have been saved there)."""
    name = _check_name(name)
    with _session_lock:
        if (kind, name) in _session_extra:
            return _session_extra[(kind, name)]
    usable, _ = keyring_status()
    if not usable:
        return None
    try:
        value = keyring.get_password(SERVICES[kind], name)
    except Exception as exc:
        raise _failure("read", name, exc, what=_WHAT[kind]) from None
    return str(value) if value else None


def forget_secret(kind: SecretKind, name: str) -> None:
    """Remove an OAuth secret of ``name`` from the session store and the keyring."""
    name = _check_name(name)
    with _session_lock:
        _session_extra.pop((kind, name), None)
    usable, _ = keyring_status()
    if not usable:
        return
    try:
        keyring.delete_password(SERVICES[kind], name)
    except keyring.errors.PasswordDeleteError:
        pass
    except Exception as exc:
        raise _failure("remove", name, exc, what=_WHAT[kind]) from None


forget_hooks: list[Callable[[str], None]] = []
"""Called with the connection name by :func:`forget_all` (the OAuth layer drops access tokens it holds in memory)."""


def forget_all(name: str) -> None:
    """Remove every secret of connection ``name``: password, refresh token, client secret, and
    any access token held in memory."""
    for hook in list(forget_hooks):
        hook(name)
    forget_password(name)
    for kind in SERVICES:
        forget_secret(kind, name)


__all__ = [
    "SERVICE",
    "SERVICES",
    "Secret",
    "forget_all",
    "forget_password",
    "forget_secret",
    "get_password",
    "get_secret",
    "has_session_password",
    "keyring_status",
    "remember_session_password",
    "secret_location",
    "store_password",
    "store_secret",
]
