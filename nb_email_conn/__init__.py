"""nb-email-conn: connect your own mailbox (IMAP + SMTP) inside Jupyter.

>>> import nb_email_conn as nec
>>> conn = nec.connect("work")                 # a saved connection + its keyring secret
>>> df = conn.search_emails("from:bob is:unread", limit=50)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .aliases import Gated, Refs
from .cache import SyncReport
from .config import ConnectionConfig, Encryption
from .connection import EmailConnection
from .diagnostics import ConnectionReport, test_connection
from .discovery import DiscoveredSettings, discover
from .errors import (
    ActionRejectedError,
    AuthenticationError,
    ConnectionFailedError,
    EmailConnError,
    FunctionDisabledError,
    GuardrailError,
    InvalidInputError,
    OperationTimeoutError,
    OutcomeUnknownError,
    SecretStoreError,
    SecurityError,
    ServerError,
    StaleReferenceError,
)
from .functions import SentEmail
from .guardrails import Guardrails
from .imap.completeness import IncompleteSearchWarning
from .message.parse import Attachment, Email
from .oauth import OAuthProvider
from .pending import PendingAction
from .policy import ActionRequest, Decision, Policy
from .store import connect, forget_connection, list_connections, save_connection
from .watch import Watch
from .widgets.wiring import install as _install_jupyter_layer

if TYPE_CHECKING:
    from . import sandbox
    from .oauth.signin import sign_in, sign_out
    from .widgets.inbox import LiveInbox
    from .widgets.manager import ConnectionManager

__version__ = "0.1.0"

# In a Jupyter kernel the inline approval widget and the progress bar are the defaults.
_install_jupyter_layer()

__all__ = [
    "ActionRejectedError",
    "ActionRequest",
    "Attachment",
    "AuthenticationError",
    "ConnectionConfig",
    "ConnectionFailedError",
    "ConnectionManager",
    "ConnectionReport",
    "Decision",
    "DiscoveredSettings",
    "Email",
    "EmailConnError",
    "EmailConnection",
    "Encryption",
    "FunctionDisabledError",
    "Gated",
    "GuardrailError",
    "Guardrails",
    "IncompleteSearchWarning",
    "InvalidInputError",
    "LiveInbox",
    "OAuthProvider",
    "OperationTimeoutError",
    "OutcomeUnknownError",
    "PendingAction",
    "Policy",
    "Refs",
    "SecretStoreError",
    "SecurityError",
    "SentEmail",
    "ServerError",
    "StaleReferenceError",
    "SyncReport",
    "Watch",
    "__version__",
    "connect",
    "discover",
    "forget_connection",
    "list_connections",
    "sandbox",
    "save_connection",
    "sign_in",
    "sign_out",
    "test_connection",
]


def __getattr__(name: str) -> Any:
    # The widget and the sandbox pull in anywidget / the servers: load them on first use.
    if name == "ConnectionManager":
        from .widgets.manager import ConnectionManager

        return ConnectionManager
    if name == "LiveInbox":
        from .widgets.inbox import LiveInbox

        return LiveInbox
    if name in ("sign_in", "sign_out"):  # authlib and requests load on first use
        from .oauth import signin

        return getattr(signin, name)
    if name == "sandbox":
        import importlib

        return importlib.import_module(".sandbox", __name__)
    raise AttributeError(f"module 'nb_email_conn' has no attribute {name!r}")
