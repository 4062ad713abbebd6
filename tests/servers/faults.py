"""Hostile-server rules for :class:`servers.mitm.ImapMitm`: each turns a real Dovecot into a liar.

A rule gets every whole server response (``on_response``) and returns what the client sees.
Rules act only after login (``Fault.after_login``), so the client gets far enough to run
each function. ``Fault.hits`` counts the responses a rule changed, so a test can check the
fault really happened.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .mitm import Cut, ImapMitm, Session

HUGE = b"9999999999"


@dataclass
class Fault:
    """One hostile behaviour: ``change(response, session, fault) -> bytes`` on responses after LOGIN."""

    name: str
    change: Callable[[bytes, Session, Fault], bytes]
    hits: int = 0
    proxy: ImapMitm | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self) -> None:
        with self._lock:
            self.hits += 1

    def rule(self, response: bytes, session: Session) -> bytes:
        logged_in = any(command_is(c, b"LOGIN") or command_is(c, b"AUTHENTICATE") for c in session.commands)
        if not logged_in or response.startswith(b"+"):
            return response
        if session.verb_of(response.split(b" ", 1)[0]) in ("LOGIN", "AUTHENTICATE"):
            return response  # the LOGIN answer itself passes
        return self.change(response, session, self)


def command_is(command: bytes, verb: bytes) -> bool:
    words = command.split(None, 2)
    return len(words) > 1 and words[1].upper() == verb


def _tagged(response: bytes) -> bool:
    return not response.startswith((b"* ", b"+"))


def _huge_literal(response: bytes, session: Session, fault: Fault) -> bytes:
    if re.search(rb"\{\d+\}\r\n", response):
        fault.hit()
        return re.sub(rb"\{\d+\}\r\n", b"{" + HUGE + b"}\r\n", response, count=1)
    return response


def _unsolicited(response: bytes, session: Session, fault: Fault) -> bytes:
    if _tagged(response):
        fault.hit()
        noise = (
            b"* 1 FETCH (FLAGS (\\Flagged \\Deleted))\r\n* 2 FETCH (UID 4000000000 FLAGS ())\r\n"
            b"* 3 FETCH (UID 1 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n* 9 EXISTS\r\n* 1 RECENT\r\n"
            b"* 1 EXPUNGE\r\n* OK [ALERT] noise (from) ) another session\r\n"
        )
        return noise + response
    return response


def _malformed_fetch(response: bytes, session: Session, fault: Fault) -> bytes:
    if re.match(rb"\* \d+ FETCH ", response):
        fault.hit()
        return re.sub(rb"UID (\d+)", rb"UID \1x", response, count=1)
    return response


def _unbalanced(response: bytes, session: Session, fault: Fault) -> bytes:
    if response.startswith(b"* ") and response.endswith(b")\r\n"):
        fault.hit()
        return response[:-2] + b"))\r\n"
    return response


def _odd_names(response: bytes, session: Session, fault: Fault) -> bytes:
    if response.startswith(b"* LIST ") and b" INBOX" in response:
        fault.hit()
        extra = (
            b'* LIST () "/" "R&D"\r\n* LIST () "/" &ZZZ-\r\n* LIST () "/" {5}\r\nCaf\xe9!\r\n'
            b'* LIST () "/" "\xff\xfe"\r\n* LIST (\\HasNoChildren) NIL {4}\r\n&AGE\r\n'
        )
        return extra + response
    return response


def _bye(response: bytes, session: Session, fault: Fault) -> bytes:
    if len(session.commands) >= 4 and _tagged(response):
        fault.hit()
        return b"* BYE the server is going away\r\n"
    return response


def _cut_in_literal(response: bytes, session: Session, fault: Fault) -> bytes:
    match = re.search(rb"\{(\d+)\}\r\n", response)
    if match and int(match[1]) > 10:
        fault.hit()
        ImapMitm.send_raw(session, response[: match.end() + 5])
        raise Cut
    return response


def _garbage(response: bytes, session: Session, fault: Fault) -> bytes:
    if len(session.commands) >= 4 and _tagged(response):
        fault.hit()
        return b"\x00\xff\xfe garbage \x80\x81)((\r\n" + response
    return response


def _wrong_tag(response: bytes, session: Session, fault: Fault) -> bytes:
    if len(session.commands) >= 4 and _tagged(response):
        fault.hit()
        return b"ZZZ9" + response[response.index(b" ") :]
    return response


def _no_uidvalidity(response: bytes, session: Session, fault: Fault) -> bytes:
    if b"[UIDVALIDITY " in response:
        fault.hit()
        return b""
    return response


def _long_line(response: bytes, session: Session, fault: Fault) -> bytes:
    if response.startswith(b"* LIST ") or (_tagged(response) and session.verb_of(response.split(b" ")[0]) == "SELECT"):
        fault.hit()
        return b"* OK " + b"x" * (3 << 20) + b"\r\n" + response
    return response


def _huge_uid_sets(response: bytes, session: Session, fault: Fault) -> bytes:
    if response.startswith((b"* ESEARCH", b"* SEARCH")) or b"[COPYUID " in response:
        fault.hit()
        response = re.sub(rb"ALL [\d:,]+", b"ALL 1:4294967295", response)
        response = re.sub(rb"\[COPYUID (\d+) [\d:,]+ [\d:,]+\]", rb"[COPYUID \1 1:4294967295 1:4294967295]", response)
        if response.startswith(b"* SEARCH"):
            response = response[:-2] + b" 4294967296 18446744073709551616 -1 x\r\n"
    return response


def _stall(response: bytes, session: Session, fault: Fault) -> bytes:
    if len(session.commands) >= 4:
        fault.hit()
        ImapMitm.stall(session)
    return response


IMAP_FAULTS: dict[str, Callable[[bytes, Session, Fault], bytes]] = {
    "huge literal": _huge_literal,
    "unsolicited responses": _unsolicited,
    "malformed FETCH": _malformed_fetch,
    "unbalanced parentheses": _unbalanced,
    "odd folder names": _odd_names,
    "BYE mid-session": _bye,
    "cut inside a literal": _cut_in_literal,
    "garbage line": _garbage,
    "unknown tag": _wrong_tag,
    "no UIDVALIDITY": _no_uidvalidity,
    "3 MB line": _long_line,
    "huge UID sets": _huge_uid_sets,
    "stall": _stall,
}


def hostile_proxy(upstream_port: int, name: str, *, timeout: float = 10.0) -> tuple[ImapMitm, Fault]:
    """An ImapMitm in front of ``upstream_port`` applying the fault ``name`` after login."""
    fault = Fault(name, IMAP_FAULTS[name])
    proxy = ImapMitm(upstream_port, on_response=fault.rule, timeout=timeout)
    fault.proxy = proxy
    return proxy, fault
