"""Benchmark: the whole-folder search against the floor, imapclient and imap_tools.

    python benchmarks/search_bench.py                 # 10k and 50k messages
    python benchmarks/search_bench.py --sizes 200000  # on request

Starts Dovecot (tests/servers/dovecot.py) with N synthetic ~12 KB messages written straight
into a Maildir folder, then measures, each method in its own process (so peak RSS is its
own), over the plain loopback port (no TLS, so only the client's work differs):

- floor: raw socket ``UID FETCH 1:* (...)`` of the same items, read without parsing;
- ours: ``search_messages`` (UID SEARCH + pipelined FETCH + parser + DataFrame);
- ours_limit100: the newest 100 (UID SORT + FETCH of 100);
- imapclient: ``search`` + ``fetch`` of the same items in chunks of 1000;
- imap_tools: ``fetch(headers_only=True, bulk=1000, mark_seen=False)`` into a DataFrame.

Cold = the first run in a fresh process (the very first one also builds Dovecot's index);
warm = median of the next ``--runs`` runs. Results go to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pwd
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

USER = "bob@example.org"
FOLDER = "Bench"
ITEMS = (
    "UID FLAGS RFC822.SIZE INTERNALDATE BODYSTRUCTURE "
    "BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO)]"
)
IMAPCLIENT_ITEMS = [*ITEMS.split(" ", 5)[:5], ITEMS.split(" ", 5)[5]]
METHODS = ("floor", "ours", "ours_limit100", "imapclient", "imap_tools")
NAMES = ["Alice Martin", "Jörg Müller", "Zoë Durand", "李雷", "Bob Smith", "Carol O'Neil"]
WORDS = ["report", "invoice", "meeting", "quarterly", "update", "lunch", "project", "review", "draft", "budget"]


# -- the corpus ----------------------------------------------------------------------------
def _encoded(name: str) -> str:
    if name.isascii():
        return name
    import base64

    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


def _message(index: int, rnd: random.Random, when: float) -> bytes:
    sender = rnd.choice(NAMES)
    subject = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 6))) + f" #{index}"
    if rnd.random() < 0.2:
        subject = _encoded("Ünïcödé " + subject)
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    headers = [
        f"From: {_encoded(sender)} <user{index % 500}@example.org>",
        f"To: alice@example.org, team{index % 7}@example.org",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: <bench{index}@example.org>",
        "MIME-Version: 1.0",
    ]
    if index % 10:
        headers.append(f"Cc: cc{index % 13}@example.org")
    if index % 3 == 0:
        headers.append(f"In-Reply-To: <bench{index - 1}@example.org>")
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 180)[:10_000]
    if index % 5 == 0:
        headers.append('Content-Type: multipart/mixed; boundary="b"')
        body = (
            f'--b\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n{text[:8000]}\r\n'
            f'--b\r\nContent-Type: application/pdf; name="doc{index}.pdf"\r\n'
            f'Content-Disposition: attachment; filename="doc{index}.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{'QUJD' * 500}\r\n--b--\r\n"
        )
    else:
        headers.append('Content-Type: text/plain; charset="utf-8"')
        body = text + "\r\n"
    # Header lines are long enough for ~12 KB with the body; keep other headers realistic.
    headers += [f"Received: from mx{i}.example.org by mx.example.org; {date}" for i in range(4)]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def seed(server: Any, count: int) -> None:
    """Write ``count`` messages into bob's Maildir folder (Dovecot indexes it on first use)."""
    with server.client(USER) as client:  # creates the home and Maildir
        client.create_folder(FOLDER)
    folder = server.root / "home" / USER / "Maildir" / f".{FOLDER}"
    cur = folder / "cur"
    rnd = random.Random(42)
    start = time.time() - count * 600
    for index in range(count):
        when = start + index * 600 + rnd.randint(-3000, 3000)
        flags = "S" if rnd.random() < 0.7 else ""
        flags += "F" if rnd.random() < 0.05 else ""
        path = cur / f"{int(when)}.M{index}P1.bench:2,{''.join(sorted(flags))}"
        path.write_bytes(_message(index, rnd, when))
        os.utime(path, (when, when))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)


# -- the methods (each run in a child process) ---------------------------------------------
def _client(port: int) -> Any:
    import imapclient

    client = imapclient.IMAPClient("127.0.0.1", port=port, ssl=False, timeout=120)
    client.login(USER, "bobpass")
    client.select_folder(FOLDER, readonly=True)
    return client


def run_floor(port: int) -> int:
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(b'a LOGIN "%s" "bobpass"\r\nb EXAMINE %s\r\n' % (USER.encode(), FOLDER.encode()))
    while not reader.readline().startswith(b"b "):
        pass
    began = time.perf_counter()
    sock.sendall(b"c UID FETCH 1:* (" + ITEMS.encode() + b")\r\n")
    total = 0
    tail = b""
    while True:
        chunk = sock.recv(1 << 20)
        total += len(chunk)
        tail = (tail + chunk)[-200:]
        if b"\r\nc OK" in tail or tail.startswith(b"c OK"):
            break
    elapsed = time.perf_counter() - began
    sock.close()
    print(json.dumps({"seconds": elapsed, "bytes": total}))
    return 0


def run_ours(port: int, limit: int | None) -> int:
    from nb_email_conn.imap.fetch import search_messages
    from nb_email_conn.imap.query import build_criteria

    client = _client(port)
    info = client.select_folder(FOLDER, readonly=True)
    caps = [c.decode() for c in client.capabilities()]
    began = time.perf_counter()
    frame = search_messages(
        client._imap,
        build_criteria(None, {}),
        capabilities=caps,
        folder=FOLDER,
        uidvalidity=int(info[b"UIDVALIDITY"]),
        limit=limit,
    )
    elapsed = time.perf_counter() - began
    client.logout()
    print(json.dumps({"seconds": elapsed, "rows": len(frame)}))
    return 0


def run_imapclient(port: int) -> int:
    client = _client(port)
    began = time.perf_counter()
    uids = client.search("ALL")
    rows = 0
    for start in range(0, len(uids), 1000):
        rows += len(client.fetch(uids[start : start + 1000], IMAPCLIENT_ITEMS))
    elapsed = time.perf_counter() - began
    client.logout()
    print(json.dumps({"seconds": elapsed, "rows": rows}))
    return 0


def run_imap_tools(port: int) -> int:
    import pandas as pd
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted("127.0.0.1", port=port, timeout=120).login(USER, "bobpass", initial_folder=FOLDER) as box:
        began = time.perf_counter()
        records = [
            {
                "uid": m.uid,
                "subject": m.subject,
                "from": m.from_,
                "to": ", ".join(m.to),
                "date": m.date,
                "flags": m.flags,
                "size": m.size_rfc822,
            }
            for m in box.fetch(headers_only=True, bulk=1000, mark_seen=False)
        ]
        frame = pd.DataFrame(records)
        elapsed = time.perf_counter() - began
    print(json.dumps({"seconds": elapsed, "rows": len(frame)}))
    return 0


def child(method: str, port: int, runs: int) -> int:
    """Run one method ``runs`` times in this process; print one JSON line per run, then RSS."""
    for _ in range(runs):
        if method == "floor":
            run_floor(port)
        elif method == "ours":
            run_ours(port, None)
        elif method == "ours_limit100":
            run_ours(port, 100)
        elif method == "imapclient":
            run_imapclient(port)
        else:
            run_imap_tools(port)
        sys.stdout.flush()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mb": peak_kb / 1024}))
    return 0


# -- the driver ----------------------------------------------------------------------------
def measure(method: str, port: int, runs: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, "--port", str(port), "--runs", str(runs + 1)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    times = [line["seconds"] for line in lines if "seconds" in line]
    return {
        "cold": times[0],
        "warm": statistics.median(times[1:]),
        "rss": lines[-1]["peak_rss_mb"],
        "rows": lines[0].get("rows", lines[0].get("bytes")),
    }


def bench(count: int, runs: int) -> list[str]:
    import tempfile

    from servers.certs import make_test_certs
    from servers.dovecot import DovecotServer

    certs = make_test_certs(Path(tempfile.mkdtemp(prefix="bench-certs")))
    server = DovecotServer(certs=certs).start()
    try:
        began = time.perf_counter()
        seed(server, count)
        print(f"seeded {count} messages in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        first = time.perf_counter()
        run_floor_once = subprocess.run(
            [sys.executable, __file__, "--child", "floor", "--port", str(server.plain_port), "--runs", "1"],
            check=True,
            capture_output=True,
            text=True,
        )
        index_seconds = time.perf_counter() - first
        print(f"first fetch (Dovecot builds its index): {index_seconds:.1f} s {run_floor_once.stdout[:80]}",
              file=sys.stderr)  # fmt: skip
        results = {}
        for method in METHODS:
            results[method] = measure(method, server.plain_port, runs)
            print(method, results[method], file=sys.stderr)
    finally:
        server.stop()
    floor = results["floor"]["warm"]
    lines = [
        f"### {count:,} messages",
        "",
        "| method | cold (s) | warm median (s) | x floor | peak RSS (MB) | rows |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for method in METHODS:
        r = results[method]
        lines.append(
            f"| {method} | {r['cold']:.3f} | {r['warm']:.3f} | {r['warm'] / floor:.2f} | {r['rss']:.0f} | {r['rows']} |"
        )
    ours = results["ours"]["warm"]
    lines += [
        "",
        f"ours vs imapclient: {results['imapclient']['warm'] / ours:.1f}x faster; "
        f"vs imap_tools: {results['imap_tools']['warm'] / ours:.1f}x faster; "
        f"limit=100: {results['ours_limit100']['warm'] * 1000:.0f} ms. "
        f"(floor rows column = bytes read.)",
        "",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--runs", type=int, default=3, help="warm runs per method (after one cold run)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.md")
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.port, args.runs)
    lines = [
        "# Search benchmark",
        "",
        f"`python benchmarks/search_bench.py --sizes {' '.join(map(str, args.sizes))}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        "Dovecot on loopback without TLS, synthetic ~12 KB messages (20% with an attachment).",
        "",
    ]
    for count in args.sizes:
        lines += bench(count, args.runs)
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
