"""The connection form's values and the manager's read-only traits, built from the package's data.

``form_values`` turns a :class:`ConnectionConfig` (and form keywords) into the ``values`` trait
(never a secret: an OAuth provider appears as its ``to_dict()``), ``config_from_values`` checks
the form and builds the config back; ``function_list`` and ``report_state`` give the Functions
list and the test report in their synced shapes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..config import ConnectionConfig
from ..errors import InvalidInputError
from ..functions import REGISTRY
from .messages import FunctionInfo, ReportState, Step

FORM_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ConnectionConfig))


def form_values(config: ConnectionConfig | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "",
        "username": "",
        "imap_host": "",
        "imap_port": None,
        "imap_encryption": "SslOnConnect",
        "smtp_host": "",
        "smtp_port": None,
        "smtp_encryption": "SslOnConnect",
        "from_address": "",
        "ca_file": "",
        "verify_tls": True,
        "timeout": 30.0,
    }
    if config is not None:
        values.update(config.to_dict())
    values.update(fields)
    ports = ("imap_port", "smtp_port")
    return {key: ("" if value is None and key not in ports else value) for key, value in values.items()}


def config_from_values(values: Mapping[str, Any]) -> ConnectionConfig:
    """Build and validate a ConnectionConfig from the form; empty optional fields mean "default"."""
    if not isinstance(values, Mapping):
        raise InvalidInputError("values must be an object.", field="values")
    unknown = sorted(set(values) - set(FORM_FIELDS))
    if unknown:
        raise InvalidInputError(f"unknown form field {unknown[0]!r}.", field=unknown[0])
    data = {key: value for key, value in values.items() if value not in ("", None)}
    data.setdefault("name", "")
    data.setdefault("username", "")
    data.setdefault("imap_host", "")
    return ConnectionConfig(**data)


def function_list() -> list[FunctionInfo]:
    """The Functions section: every function of the registry, in its order."""
    return [
        FunctionInfo(name=spec.name, description=spec.label, default=spec.default_policy.value, writes=spec.writes)
        for spec in REGISTRY.values()
    ]


def report_state(report: Mapping[str, Any]) -> ReportState:
    """The backend's test report as the ``report`` trait (only the keys the front end knows)."""
    steps: list[Step] = []
    for raw in report.get("steps", []):
        step = Step(
            protocol="smtp" if raw.get("protocol") == "smtp" else "imap",
            name=str(raw.get("name", "")),
            ok=bool(raw.get("ok")),
            detail=str(raw.get("detail", "")),
        )
        if isinstance(raw.get("seconds"), (int, float)):
            step["seconds"] = float(raw["seconds"])
        steps.append(step)
    state = ReportState(ok=bool(report.get("ok")), insecure=bool(report.get("insecure")), steps=steps)
    if "imap_capabilities" in report:
        state["imap_capabilities"] = [str(item) for item in report["imap_capabilities"]]
    if "smtp_extensions" in report:
        state["smtp_extensions"] = [str(item) for item in report["smtp_extensions"]]
    return state
