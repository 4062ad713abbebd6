"""Saved connections: settings in ``connections.toml``, passwords in the secret store.

The file lives in ``$NB_EMAIL_CONN_HOME`` or the user's config directory, one table per
connection (``[connections."work"]`` with ``policies`` and ``guardrails`` sub-tables). It
never holds a password. Writes are atomic (temp file + ``os.replace``) with mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from . import secrets
from .config import ConnectionConfig
from .errors import InvalidInputError
from .functions.policies import Policies
from .guardrails import Guardrails
from .oauth.provider import OAuthProvider
from .paths import HOME_ENV, config_dir
from .policy import Approver, Policy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from .connection import EmailConnection

FILE_NAME = "connections.toml"
LOCK_NAME = ".connections.lock"
_TABLE = "connections"
_thread_lock = threading.RLock()


def config_path() -> Path:
    return config_dir() / FILE_NAME


def _ensure_dir() -> Path:
    directory = config_dir()
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    return directory


@contextlib.contextmanager
def _updating() -> Iterator[None]:
    """Serialise read-modify-write cycles (threads, and other processes where flock exists),
    so two saves at once never lose one of them."""
    with _thread_lock:
        directory = _ensure_dir()
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: the thread lock only
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _read_all() -> dict[str, dict[str, Any]]:
    """Every saved connection's raw table; a corrupt file raises InvalidInputError."""
    path = config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}.", field="file") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path} is not UTF-8 text (byte {exc.start}); fix or delete the file.", field="file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message carries "(at line N, column M)".
        raise InvalidInputError(
            f"{path} is not valid TOML: {exc}. Fix the file, or delete it to start over.", field="file"
        ) from None
    table = data.get(_TABLE, {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise InvalidInputError(f"{path}: [{_TABLE}] must hold one table per connection.", field="file")
    return table


def _write_all(connections: Mapping[str, Mapping[str, Any]]) -> None:
    directory = _ensure_dir()
    text = tomli_w.dumps({_TABLE: {name: dict(connections[name]) for name in sorted(connections)}})
    fd, tmp = tempfile.mkstemp(prefix=".connections-", suffix=".tmp", dir=directory)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, directory / FILE_NAME)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _to_table(config: ConnectionConfig, policies: Mapping[str, str], guardrails: Guardrails) -> dict[str, Any]:
    # TOML has no null: unset values are left out and come back as the defaults.
    table = {key: value for key, value in config.to_dict().items() if value is not None}
    if table.get("auth") == "password":
        del table["auth"]  # the default; an OAuth connection says auth = "oauth2" and has an [oauth] table
    table["policies"] = dict(policies)
    rails = {key: value for key, value in guardrails.to_dict().items() if value is not None}
    if guardrails.active:
        table["guardrails"] = rails
    return table


def _guardrails_from(name: str, table: Mapping[str, Any]) -> Guardrails:
    raw = table.get("guardrails", {})
    where = f"saved connection {name!r} in {config_path()}"
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: 'guardrails' must be a table.", field="guardrails")
    try:
        return Guardrails.from_dict(raw)
    except (InvalidInputError, TypeError) as exc:
        raise InvalidInputError(f"{where}: {exc} Save it again or edit the file.", field="guardrails") from None


def _from_table(name: str, table: Mapping[str, Any]) -> tuple[ConnectionConfig, dict[str, str]]:
    settings = dict(table)
    settings.pop("guardrails", None)  # read by _guardrails_from
    raw_policies = settings.pop("policies", {})
    where = f"saved connection {name!r} in {config_path()}"
    if not isinstance(raw_policies, dict):
        raise InvalidInputError(f"{where}: 'policies' must be a table.", field="policies")
    settings.setdefault("name", name)
    if settings["name"] != name:
        raise InvalidInputError(f"{where}: the table says name = {settings['name']!r}.", field="name")
    try:
        config = ConnectionConfig.from_dict(settings)
        policies = Policies(raw_policies).to_dict()
    except (InvalidInputError, TypeError) as exc:
        field = getattr(exc, "field", None)
        raise InvalidInputError(f"{where}: {exc} Save it again or edit the file.", field=field) from None
    return config, policies


def _unknown(name: str, saved: Mapping[str, Any]) -> InvalidInputError:
    names = ", ".join(repr(n) for n in sorted(saved)) or "none yet"
    return InvalidInputError(f"no saved connection named {name!r}; saved connections: {names}.", field="name")


def save_connection(
    config: ConnectionConfig,
    password: str | None = None,
    *,
    policies: Mapping[str, Policy | str] | None = None,
    guardrails: Guardrails | Mapping[str, Any] | None = None,
    session_only: bool = False,
) -> None:
    """Save ``config`` under its name (replacing earlier settings of that name).

    ``password`` goes to the keyring (or this session only, ``session_only=True``);
    without one, any password saved earlier is kept. ``policies=None`` keeps the saved
    policies of that name, or the defaults for a new connection; ``guardrails=None`` keeps
    the saved :class:`~nb_email_conn.Guardrails` (none for a new connection).
    """
    if not isinstance(config, ConnectionConfig):
        raise InvalidInputError(
            f"save_connection needs a ConnectionConfig, not {type(config).__name__}.", field="config"
        )
    chosen = Policies(policies).to_dict() if policies is not None else None  # bad values: nothing changes
    rails = Guardrails.parse(guardrails) if guardrails is not None else None
    _read_all()  # nor when the file is corrupt
    with _updating():
        saved = _read_all()
        if chosen is None:
            previous = saved.get(config.name, {}).get("policies", {})
            try:
                chosen = Policies(previous if isinstance(previous, dict) else {}).to_dict()
            except InvalidInputError:
                chosen = Policies().to_dict()
        if rails is None:
            try:
                rails = _guardrails_from(config.name, saved.get(config.name, {}))
            except InvalidInputError:
                rails = Guardrails()
        if password is not None:
            secrets.store_password(config.name, password, session_only=session_only)
        if config.oauth is not None and config.oauth.client_secret:  # never in the file
            secrets.store_secret(
                "client_secret", config.name, config.oauth.client_secret.reveal(), session_only=session_only
            )
        saved[config.name] = _to_table(config, chosen, rails)
        _write_all(saved)


def load_connection(name: str) -> tuple[ConnectionConfig, dict[str, str]]:
    """The saved settings and policies (function name -> policy value) of ``name``."""
    saved = _read_all()
    if not isinstance(name, str) or name.strip() not in saved:
        raise _unknown(str(name), saved)
    name = name.strip()
    config, policies = _from_table(name, saved[name])
    return _with_client_secret(config), policies


def _with_client_secret(config: ConnectionConfig) -> ConnectionConfig:
    """An OAuth provider's client secret comes back from the secret store, not the file."""
    secret = secrets.get_secret("client_secret", config.name) if config.oauth is not None else None
    if config.oauth is None or not secret:
        return config
    return config.replace(oauth=OAuthProvider.from_dict(config.oauth.to_dict(), client_secret=secret))


def load_guardrails(name: str) -> Guardrails:
    """The saved :class:`~nb_email_conn.Guardrails` of ``name`` (no limits when none were saved)."""
    saved = _read_all()
    if not isinstance(name, str) or name.strip() not in saved:
        raise _unknown(str(name), saved)
    return _guardrails_from(name.strip(), saved[name.strip()])


def list_connections() -> list[ConnectionConfig]:
    """Every saved connection's settings, sorted by name."""
    saved = _read_all()
    return [_from_table(name, saved[name])[0] for name in sorted(saved)]


def forget_connection(name: str) -> None:
    """Remove the saved settings, password and local index (``cache/<name>/``) of ``name``.

    The password and the index are removed even when no settings are saved under that
    name (orphans); the unknown name is then reported with InvalidInputError.
    """
    with _updating():
        saved = _read_all()
        key = name.strip() if isinstance(name, str) else name
        if isinstance(key, str) and key:
            secrets.forget_all(key)  # the password, or an OAuth sign-in's tokens
            _remove_cache(key)
        if key not in saved:
            raise _unknown(str(name), saved)
        del saved[key]
        _write_all(saved)


def _remove_cache(name: str) -> None:
    from .cache.files import remove_cache  # the index of that connection only: cache/<name>/

    with contextlib.suppress(InvalidInputError):  # a name that cannot be a folder has no index
        remove_cache(name)


def connect(
    name: str, *, approver: Approver | None = None, password: str | None = None, cache: bool = False
) -> EmailConnection:
    """An :class:`EmailConnection` for a saved connection, with its saved policies, guardrails and password.

    ``cache=True``: searches read their rows from the connection's synced local index."""
    config, policies = load_connection(name)
    guardrails = load_guardrails(config.name)
    if password is None and config.auth == "password":  # OAuth connections use their tokens
        password = secrets.get_password(config.name)
    from .connection import EmailConnection  # here, not at the top: connection imports store

    extra: dict[str, Any] = {"cache": True} if cache else {}  # only when asked: the default is EmailConnection's
    conn = EmailConnection(config, password=password, approver=approver, policies=policies, **extra)
    conn.guardrails = guardrails
    return conn


__all__ = [
    "FILE_NAME",
    "HOME_ENV",
    "config_dir",
    "config_path",
    "connect",
    "forget_connection",
    "list_connections",
    "load_connection",
    "load_guardrails",
    "save_connection",
]
