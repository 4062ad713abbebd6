"""``conn.policies``: each function's :class:`Policy`, defaults from the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping

from ..policy import Policy
from . import DEFAULT_POLICIES, FUNCTIONS, spec_for


class Policies(MutableMapping[str, Policy]):
    """Function name -> :class:`Policy`; values may be set as strings.

    Only the registry's function names are keys; deleting a key restores its default.
    ``observe`` callbacks (the manager widget) hear about every change.
    """

    def __init__(self, initial: Mapping[str, Policy | str] | None = None) -> None:
        self._values: dict[str, Policy] = dict(DEFAULT_POLICIES)
        self._observers: list[Callable[[str, Policy], None]] = []
        for name, value in (initial or {}).items():
            self[name] = value

    def __getitem__(self, name: str) -> Policy:
        return self._values[spec_for(name).name]

    def __setitem__(self, name: str, value: Policy | str) -> None:
        policy = Policy.parse(value)
        self._values[spec_for(name).name] = policy
        for observer in list(self._observers):
            observer(name, policy)

    def __delitem__(self, name: str) -> None:
        self[name] = spec_for(name).default_policy

    def __iter__(self) -> Iterator[str]:
        return iter(FUNCTIONS)

    def __len__(self) -> int:
        return len(FUNCTIONS)

    def observe(self, callback: Callable[[str, Policy], None]) -> None:
        self._observers.append(callback)

    def to_dict(self) -> dict[str, str]:
        return {name: self._values[name].value for name in FUNCTIONS}

    def __repr__(self) -> str:
        return f"Policies({self.to_dict()!r})"
