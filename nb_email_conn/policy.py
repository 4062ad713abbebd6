"""Policies and the objects that pass between a gated call and its reviewer."""

from __future__ import annotations

import concurrent.futures
import enum
import itertools
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from .errors import InvalidInputError


class Policy(str, enum.Enum):
    """What happens when a function is called."""

    ENABLED = "enabled"
    """Runs without asking."""
    CONFIRM = "confirm"
    """"Enabled with confirmation": runs only after a reviewer approves."""
    DISABLED = "disabled"
    """Refused with FunctionDisabledError before any network traffic."""

    @property
    def label(self) -> str:
        return {"enabled": "Enabled", "confirm": "Enabled with confirmation", "disabled": "Disabled"}[self.value]

    @classmethod
    def parse(cls, value: Policy | str) -> Policy:
        if isinstance(value, Policy):
            return value
        if isinstance(value, str):
            key = re.sub(r"[\s_-]+", " ", value).strip().lower()
            aliases = {
                "enabled": cls.ENABLED,
                "enable": cls.ENABLED,
                "confirm": cls.CONFIRM,
                "confirmation": cls.CONFIRM,
                "enabled with confirmation": cls.CONFIRM,
                "disabled": cls.DISABLED,
                "disable": cls.DISABLED,
            }
            if key in aliases:
                return aliases[key]
        raise InvalidInputError(
            f"policy must be 'enabled', 'confirm' (Enabled with confirmation) or 'disabled'; got {value!r}.",
            field="policy",
        )

    def __str__(self) -> str:
        return self.value


_request_ids = itertools.count(1)


@dataclass
class ActionRequest:
    """A call waiting for a reviewer: what would run, with a preview a human can judge."""

    function: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    connection: str = ""
    id: int = field(default_factory=lambda: next(_request_ids))
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def summary(self) -> str:
        """One line, e.g. ``send_email: "Q3 report" to bob@example.org``."""
        return str(self.preview.get("summary") or self.function)

    def __str__(self) -> str:
        lines = [f"{self.function} on {self.connection!r} needs approval: {self.summary}"]
        for key, value in self.preview.items():
            if key in ("summary", "messages"):
                continue
            lines.append(f"  {key}: {value}")
        messages = self.preview.get("messages")
        if messages:
            for row in messages[:20]:
                lines.append(f"    - {row.get('date', '')} {row.get('from', '')}: {row.get('subject', '')}")
            if len(messages) > 20:
                lines.append(f"    ... and {len(messages) - 20} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Decision:
    """A reviewer's answer: approve, reject (with a reason) or approve with edited arguments."""

    action: Literal["approve", "reject", "edit"]
    reason: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    decided_by: str = "approver"

    @classmethod
    def approve(cls, *, decided_by: str = "approver") -> Decision:
        return cls("approve", decided_by=decided_by)

    @classmethod
    def reject(cls, reason: str | None = None, *, decided_by: str = "approver") -> Decision:
        return cls("reject", reason=reason, decided_by=decided_by)

    @classmethod
    def edit(cls, *, decided_by: str = "approver", **changes: Any) -> Decision:
        if not changes:
            raise InvalidInputError("Decision.edit needs at least one changed argument.", field="changes")
        return cls("edit", changes=dict(changes), decided_by=decided_by)

    @property
    def approved(self) -> bool:
        return self.action in ("approve", "edit")


# A decision now, an awaitable of one, or a thread-safe future (the inline widget's).
ApproverResult = Decision | bool | Awaitable[Decision | bool] | concurrent.futures.Future[Decision]
Approver = Callable[[ActionRequest], ApproverResult]
