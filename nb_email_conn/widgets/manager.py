"""``nec.ConnectionManager``: the connection form as an anywidget.

Synced traits hold only what may land in a saved notebook (form values without the
password, saved names, policies, status). The password (and an OAuth client secret) arrives
in one custom-message request, is kept in a private attribute that never prints, and is
never sent back.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import anywidget
import traitlets

from ..config import ConnectionConfig
from ..errors import EmailConnError, InvalidInputError, SecretStoreError
from ..functions import DEFAULT_POLICIES, FUNCTIONS
from ..guardrails import Guardrails
from ..policy import Policy
from ..secrets import Secret, get_password, has_session_password
from .backend import KernelBackend, ManagerBackend
from .base import reject_unknown_kwargs, static_file
from .manager_guardrails import GuardrailsState, guardrails_state, load_guardrails, save_guardrails
from .manager_signin import SignInMixin, typed_secret
from .manager_values import FORM_FIELDS, config_from_values, form_values, function_list, report_state
from .messages import (
    ConnectionTestResult,
    EmptyState,
    ForgetResult,
    FunctionInfo,
    KeyringState,
    LoadResult,
    ReportState,
    SavedConnection,
    SaveResult,
    SetPolicyResult,
    StatusState,
    SyncedDict,
)
from .protocol import Call, RequestRouter


class ConnectionManager(SignInMixin, anywidget.AnyWidget):
    """The connection form: fill it, Test connection, Save, then use ``manager.connection``.

    ``ConnectionManager()`` starts empty; ``ConnectionManager(config)`` or
    ``ConnectionManager("work")`` (a saved name) starts filled; form fields may also be given
    as keywords (``imap_host="imap.example.org"``). ``password=`` keeps a password for this
    session without typing it (it never becomes widget state).
    """

    _esm = static_file("manager.js")
    _css = static_file("manager.css")

    # The synced shapes are in messages.py (and js/src/messages.ts).
    values = traitlets.Dict().tag(sync=True)
    password_set = traitlets.Bool(False).tag(sync=True)
    saved: traitlets.List[SavedConnection] = traitlets.List().tag(sync=True)
    policies = traitlets.Dict().tag(sync=True)  # function name -> PolicyValue
    functions: traitlets.List[FunctionInfo] = traitlets.List().tag(sync=True)
    status = SyncedDict[StatusState](StatusState(state="idle", message="")).tag(sync=True)
    report = SyncedDict[ReportState | EmptyState](EmptyState()).tag(sync=True)  # {} until a test ran
    keyring = SyncedDict[KeyringState](KeyringState(usable=True, description="")).tag(sync=True)
    session_only = traitlets.Bool(False).tag(sync=True)
    connection_name = traitlets.Unicode("").tag(sync=True)
    guardrails = SyncedDict[GuardrailsState](guardrails_state(Guardrails())).tag(sync=True)

    _accepted = frozenset({"password", "policies", "guardrails", "session_only", "backend", *FORM_FIELDS})

    def __init__(self, config: ConnectionConfig | str | None = None, **kwargs: Any) -> None:
        reject_unknown_kwargs(type(self).__name__, kwargs, self._accepted)
        password = kwargs.pop("password", None)
        initial_policies = kwargs.pop("policies", None)
        rails = Guardrails.parse(kwargs.pop("guardrails", None))
        session_only = bool(kwargs.pop("session_only", False))
        self._backend: ManagerBackend = kwargs.pop("backend", None) or KernelBackend()
        self._password: Secret | None = None
        self._connection: Any = None
        self._saved_name: str | None = None
        self._lock = threading.RLock()

        policies = {name: DEFAULT_POLICIES[name].value for name in FUNCTIONS}
        if isinstance(config, str):
            config, saved_policies = self._backend.load(config)
            policies.update(saved_policies)
            self._saved_name = config.name
            if not rails.active:
                rails = load_guardrails(self._backend, config.name)
        if initial_policies:
            policies.update({name: Policy.parse(value).value for name, value in dict(initial_policies).items()})
            for name in policies:
                if name not in DEFAULT_POLICIES:
                    raise InvalidInputError(f"{name!r} is not a function of this connection.", field="policies")
        if password is None and isinstance(config, ConnectionConfig) and has_session_password(config.name):
            # The sandbox (or an earlier session_only save) left it in this kernel's memory.
            password = get_password(config.name)
        if password is not None:
            if not isinstance(password, str):
                raise InvalidInputError("password must be a string.", field="password")
            self._password = Secret(password)

        super().__init__(
            values=form_values(config, kwargs),
            policies=policies,
            functions=function_list(),
            session_only=session_only,
            password_set=self._password is not None or self._saved_name is not None,
            guardrails=guardrails_state(rails),
        )
        if isinstance(config, ConnectionConfig):
            self._with_client_secret(config)  # a provider's secret from Python or the store: kept, not synced
        self._refresh_keyring()
        self._refresh_saved()
        self._router = RequestRouter(self, thread_name="nec-manager")
        self._router.register("test_connection", self._handle_test, slow=True)
        self._router.register("save", self._handle_save, slow=True)
        self._router.register("load", self._handle_load)
        self._router.register("forget", self._handle_forget)
        self._router.register("set_policy", self._handle_set_policy)
        self._router.register("set_guardrails", self._handle_set_guardrails)
        self._setup_sign_in(lambda config: form_values(config, {}), config_from_values)  # Find settings, Sign in

    # --- public -----------------------------------------------------------------------
    @property
    def config(self) -> ConnectionConfig:
        """The form's settings, validated (raises InvalidInputError naming the bad field)."""
        return self._with_client_secret(config_from_values(self.values))

    @property
    def connection(self) -> Any:
        """The ready EmailConnection, with this form's settings and policies.

        Created by Test connection or Save; otherwise from the form and a known password.
        """
        with self._lock:
            if self._connection is not None:
                return self._connection
            if self._password is None and self._saved_name is None:
                raise EmailConnError(
                    "No connection yet: fill in the form, type the password, then click Test connection or Save."
                )
            self._open(self.config)
            return self._connection

    def close(self) -> None:
        """Close the live connection (if any) and the widget."""
        if hasattr(self, "_router"):  # also called by __del__ after a refused __init__
            with self._lock:
                self._close_connection()
            self._router.close()
        super().close()

    def __repr__(self) -> str:
        name = self.values.get("name") or "(unnamed)"
        return f"<ConnectionManager {name!r} connected={bool(self.connection_name)}>"

    # --- request handlers (the front end's buttons) ---------------------------------------
    def _handle_test(self, params: dict[str, Any], call: Call) -> ConnectionTestResult:
        """``test_connection`` with ``ConnectionTestParams`` as the browser sent them."""
        config = self._with_client_secret(config_from_values(params.get("values", self.values)), typed_secret(params))
        password = self._password_for(config, params.get("password"), required_unless_saved=True)
        self.values = form_values(config, {})
        self.status = {"state": "working", "message": f"Testing {config.name}…"}
        self.report = {}
        try:
            report = report_state(self._backend.test_connection(config, password))
        except Exception:
            self.status = {"state": "error", "message": "The connection test could not run."}
            raise
        if call.cancelled.is_set():
            self.status = {"state": "idle", "message": "Test cancelled."}
            return {"ok": False, "cancelled": True}
        self.report = report
        ok = report["ok"]
        if ok:
            with self._lock:
                self._keep(password)
                self._open(config, password)
            suffix = " (insecure settings)" if report["insecure"] else ""
            self.status = {"state": "ok", "message": f"Connection works{suffix}. manager.connection is ready."}
        else:
            failed = next((step for step in report["steps"] if not step["ok"]), None)
            where = f" at {failed['protocol'].upper()} {failed['name']}" if failed else ""
            self.status = {"state": "error", "message": f"Connection test failed{where}."}
        return {"ok": ok}

    def _handle_save(self, params: dict[str, Any], call: Call) -> SaveResult:
        """``save`` with ``SaveParams`` as the browser sent them."""
        config = self._with_client_secret(config_from_values(params.get("values", self.values)), typed_secret(params))
        password = self._password_for(config, params.get("password"), required_unless_saved=True)
        usable, _ = self._refresh_keyring()
        session_only = bool(params.get("session_only", self.session_only)) or not usable
        try:
            self._backend.save(config, password, self.policies, session_only)
        except SecretStoreError:
            self._refresh_keyring()
            self.status = {
                "state": "error",
                "message": "The keyring did not work; tick 'session only' and Save again "
                "to keep the password in memory.",
            }
            raise
        self.values = form_values(config, {})
        self.session_only = session_only
        self._saved_name = config.name
        self.password_set = True
        self._refresh_saved()
        where = "for this session only" if session_only else "in the keyring"
        with self._lock:
            self._keep(password)
            self._open(config, password)
        self.status = {"state": "ok", "message": f"Saved {config.name!r} (password {where})."}
        return {"saved": config.name, "session_only": session_only}

    def _handle_load(self, params: dict[str, Any], call: Call) -> LoadResult:
        """``load`` with ``LoadParams`` as the browser sent them."""
        name = params.get("name")
        if not isinstance(name, str):
            raise InvalidInputError("name must be a string.", field="name")
        config, policies = self._backend.load(name)
        with self._lock:
            self._close_connection()
            self._password = None
            self._saved_name = config.name
        self.values = form_values(config, {})
        self._with_client_secret(config)  # the stored client secret, kept in the kernel
        self.policies = {**self.policies, **{key: Policy.parse(value).value for key, value in policies.items()}}
        self.guardrails = guardrails_state(load_guardrails(self._backend, config.name))
        self.password_set = True
        self.report = {}
        self.status = {"state": "idle", "message": f"Loaded {config.name!r}."}
        return {"name": config.name}

    def _handle_forget(self, params: dict[str, Any], call: Call) -> ForgetResult:
        """``forget`` with ``ForgetParams`` as the browser sent them."""
        name = params.get("name")
        if not isinstance(name, str):
            raise InvalidInputError("name must be a string.", field="name")
        self._backend.forget(name)
        if self._saved_name == name:
            self._saved_name = None
            self.password_set = self._password is not None
        self._refresh_saved()
        self.status = {"state": "idle", "message": f"Forgot {name!r} (settings and stored password)."}
        return {"forgotten": name}

    def _handle_set_policy(self, params: dict[str, Any], call: Call) -> SetPolicyResult:
        """``set_policy`` with ``SetPolicyParams`` as the browser sent them; every policy after it."""
        function = params.get("function")
        if function not in DEFAULT_POLICIES:
            raise InvalidInputError(f"{function!r} is not a function of this connection.", field="function")
        policy = Policy.parse(params.get("policy", ""))
        self.policies = {**self.policies, str(function): policy.value}
        with self._lock:
            if self._connection is not None:
                self._connection.policies[function] = policy  # enforced in the kernel, at once
        if self._saved_name is not None and self._saved_name == self.values.get("name"):
            # Saved connections keep their policies; password None leaves the stored secret alone.
            self._backend.save(self.config, None, self.policies, self.session_only)
        return dict(self.policies)

    def _handle_set_guardrails(self, params: dict[str, Any], call: Call) -> GuardrailsState:
        """``set_guardrails`` with ``{guardrails: GuardrailsState}``: checked, applied to the live
        connection at once, saved with a saved connection; the guardrails in force after it."""
        rails = Guardrails.parse(params.get("guardrails"))
        with self._lock:
            if self._connection is not None:
                self._connection.guardrails = rails
        self.guardrails = guardrails_state(rails)
        if self._saved_name is not None and self._saved_name == self.values.get("name"):
            save_guardrails(self._backend, self.config, rails)
        return guardrails_state(rails)

    # --- helpers --------------------------------------------------------------------------
    def _password_for(self, config: ConnectionConfig, sent: Any, *, required_unless_saved: bool) -> str | None:
        if sent is not None:
            if not isinstance(sent, str):
                raise InvalidInputError("password must be a string.", field="password")
            if any(ch in sent for ch in "\r\n\0"):
                raise InvalidInputError("The password must not contain line breaks or NUL.", field="password")
            return sent
        if self._password is not None:
            return self._password.reveal()
        if required_unless_saved and self._saved_name != config.name and config.auth == "password":
            raise InvalidInputError("Type the password (or app password) first.", field="password")
        return None  # the saved connection's stored secret

    def _keep(self, password: str | None) -> None:
        if password is not None:
            self._password = Secret(password)
            self.password_set = True

    def _open(self, config: ConnectionConfig, password: str | None = None) -> None:
        """Replace the live connection; the widget follows policy changes made in Python."""
        if password is None and self._password is not None:
            password = self._password.reveal()
        self._close_connection()
        connection = self._backend.open_connection(config, password, self.policies)
        with contextlib.suppress(AttributeError):  # a stand-in connection may have no guardrails
            connection.guardrails = Guardrails.from_dict(self.guardrails)
        observe = getattr(getattr(connection, "policies", None), "observe", None)
        if observe is not None:
            observe(self._policy_changed_in_python)
        self._connection = connection
        self.connection_name = config.name

    def _policy_changed_in_python(self, name: str, policy: Policy) -> None:
        if self.policies.get(name) != Policy.parse(policy).value:
            self.policies = {**self.policies, name: Policy.parse(policy).value}

    def _close_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # best effort: the server may already be gone
                self._connection.close()
        self._connection = None
        self.connection_name = ""

    def _refresh_keyring(self) -> tuple[bool, str]:
        try:
            usable, description = self._backend.keyring_status()
        except Exception as exc:  # the secrets module itself failed: say so, offer session-only
            usable, description = False, f"keyring unavailable: {type(exc).__name__}"
        self.keyring = KeyringState(usable=usable, description=description)
        return usable, description

    def _refresh_saved(self) -> None:
        try:
            saved = self._backend.list_saved()
        except Exception:
            saved = []
        self.saved = [SavedConnection(name=c.name, username=c.username, imap_host=c.imap_host) for c in saved]
