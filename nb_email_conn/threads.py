"""Conversation threads: the ``thread_id`` column of search rows, from Message-ID, In-Reply-To and References.

Two messages are in one thread when a chain of Message-IDs links them: one's Message-ID is
named in the other's In-Reply-To or References, or both name the same id (also the id of a
message that is not in the folder, such as a middle message deleted or never received).
Subjects are never used: two "Re: hello" with no common id are two threads.

The links are computed over the rows at hand (the whole result of a search), with a
union-find over message ids. A thread's id is a short hash of its *root*: the first id of
the References (else In-Reply-To) of each message, followed up through the messages
present, the smallest of them when they still disagree; so every row of one conversation
gets the same id in any search that holds the whole conversation, cached or not. A row
with no id at all is its own thread, named after its ref.

Everything about a thread (its links, its root, its name) depends only on its own rows, in
their order. So after messages come or go, :func:`rethread` works out again only the threads
they touch (found through :func:`id_threads`, each id's thread) and gives what
:func:`thread_ids` over every row would: the local index's kept frame uses it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

__all__ = ["id_threads", "message_ids", "rethread", "thread_ids"]

_ID = re.compile(r"<([^<>]+)>")
_PLAIN_ID = re.compile(r"<([^<>\s]+)>")
_WS = re.compile(r"\s+")


def message_ids(value: str, *, bare: bool = False) -> list[str]:
    """The ids of a Message-ID / In-Reply-To / References value, without angle brackets.

    Ids are the ``<...>`` tokens (whitespace inside removed); a value without any is read as
    whitespace-separated words containing ``@`` (``bare=True``, for Message-ID: the whole
    value when it is one word).
    """
    if not value:
        return []
    if "<" in value:
        found = _PLAIN_ID.findall(value)
        if len(found) == value.count("<"):  # no id holds whitespace (nearly always)
            return found
        found = [_WS.sub("", token) for token in _ID.findall(value)]
        return [token for token in found if token]
    words = value.split()
    if bare and len(words) == 1:
        return words
    return [word for word in words if "@" in word]


def _name(root: str) -> str:
    return hashlib.blake2b(root.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def thread_ids(
    message_id: Sequence[str],
    in_reply_to: Sequence[str],
    references: Sequence[str] | None,
    refs: Sequence[str],
) -> list[str]:
    """One thread id per row (16 hex digits), equal exactly for rows linked by their ids."""
    count = len(refs)
    refs_column: Sequence[str] = references if references is not None else [""] * count
    parent: dict[str, str] = {}  # union-find over ids: id -> an id of the same thread, closer to its set's root

    def find(node: str) -> str:
        root = node
        while (up := parent[root]) != root:
            root = up
        while (up := parent[node]) != root:  # path compression
            parent[node] = root
            node = up
        return root

    tops: list[str | None] = []
    children: dict[str, str] = {}  # a present message's id -> the top of its own chain
    for index in range(count):
        mine = message_ids(message_id[index], bare=True)
        replied = message_ids(in_reply_to[index]) if in_reply_to[index] else []
        chain = message_ids(refs_column[index]) if refs_column[index] else []
        if not chain:
            chain, replied = replied, []
        own = mine[0] if mine else None
        top = chain[0] if chain else own
        tops.append(top)
        if own is not None and top is not None and top != own:
            children.setdefault(own, top)
        ids = [own, *chain, *replied] if own is not None else [*chain, *replied]
        if not ids:
            continue
        root: str | None = None
        for node in ids:  # join every set the row's ids are in (the root chosen does not change any name)
            if node in parent:
                found = find(node)
                if root is None:
                    root = found
                elif found != root:
                    parent[found] = root
        if root is None:
            root = ids[0]
            parent[root] = root
        for node in ids:
            if node not in parent:
                parent[node] = root

    # Each set's name: its members' tops, followed up through present messages, the smallest.
    keys: list[str | None] = []
    best: dict[str, str] = {}
    for top in tops:
        if top is None:
            keys.append(None)
            continue
        if top in children:
            seen = {top}
            while (up := children.get(top)) is not None and up not in seen:
                seen.add(up)
                top = up
        key = find(top)
        keys.append(key)
        if key not in best or top < best[key]:
            best[key] = top
    names: dict[str, str] = {}
    result: list[str] = []
    for index, row_key in enumerate(keys):
        if row_key is None:
            result.append(_name("\x00ref " + refs[index]))
            continue
        name = names.get(row_key)
        if name is None:
            name = names[row_key] = _name(best[row_key])
        result.append(name)
    return result


def _row_ids(message_id: str, in_reply_to: str, references: str) -> list[str]:
    """Every id :func:`thread_ids` joins for one row: its own (the first), its References, its In-Reply-To."""
    return [
        *message_ids(message_id, bare=True)[:1],
        *(message_ids(references) if references else ()),
        *(message_ids(in_reply_to) if in_reply_to else ()),
    ]


def id_threads(
    message_id: Sequence[str], in_reply_to: Sequence[str], references: Sequence[str], names: Sequence[str]
) -> dict[str, str]:
    """{id: thread id} for every id the rows name (``names``: their :func:`thread_ids`); each id is in one thread."""
    links: dict[str, str] = {}
    for mine, replied, chain, name in zip(message_id, in_reply_to, references, names, strict=True):
        for node in _row_ids(mine, replied, chain):
            links[node] = name
    return links


def rethread(
    message_id: Sequence[str],
    in_reply_to: Sequence[str],
    references: Sequence[str],
    refs: Sequence[str],
    names: Sequence[str | None],
    gone: set[str],
    links: dict[str, str],
) -> list[str]:
    """:func:`thread_ids` of the rows, worked out again only for the threads that changed.

    ``names`` is each row's thread id before the change (None for a row that is new), ``gone``
    the thread ids that lost a row, ``links`` the :func:`id_threads` of the rows before
    (brought up to date here). The threads worked out again: those in ``gone`` and those
    sharing an id with a new row, whole, so their rows (in the order given) hold all of
    their links; every other thread is as it was.
    """
    touched = set(gone)
    for index, name in enumerate(names):
        if name is None:
            touched.update(
                found
                for node in _row_ids(message_id[index], in_reply_to[index], references[index])
                if (found := links.get(node)) is not None
            )
    picked = [index for index, name in enumerate(names) if name is None or name in touched]
    result = list(names)
    if picked:
        mine, replied, chain, row_refs = (
            [column[index] for index in picked] for column in (message_id, in_reply_to, references, refs)
        )
        again = thread_ids(mine, replied, chain, row_refs)
        for index, name in zip(picked, again, strict=True):
            result[index] = name
        links.update(id_threads(mine, replied, chain, again))
    return [name if name is not None else "" for name in result]
