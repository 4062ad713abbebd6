"""Benchmark: the whole-folder search against the floor, imapclient and imap_tools.

    python benchmarks/search_bench.py                          # 10k and 50k messages, both corpora
    python benchmarks/search_bench.py --sizes 50000 --scale 250000 --corpus realistic

Starts Dovecot (tests/servers/dovecot.py) with N messages of each corpus (``corpus.py``:
uniform and realistic) written straight into a Maildir folder, then measures, each method in
its own process (so peak RSS is its own), over the plain loopback port (no TLS, so only the
client's work differs):

- floor: raw socket ``UID FETCH 1:* (...)`` of the same items, read without parsing;
- ours: ``search_messages`` (UID SEARCH + pipelined FETCH + parser + DataFrame);
- ours_limit100: the newest 100 (UID SORT + FETCH of 100);
- imapclient: ``search`` + ``fetch`` of the same items in chunks of 1000;
- imap_tools: ``fetch(headers_only=True, bulk=1000, mark_seen=False)`` into a DataFrame;
- cached: ``EmailConnection(cache=True).search_emails()``: cold builds the local index, warm
  searches with nothing changed; cached_churn: a search after another client changed 1% of
  the folder (flags, expunges, new mail; not timed); sync_churn: ``sync()`` after such a churn.

``--scale 250000`` adds a folder that big (realistic headers, small bodies): floor, ours,
limit=100 and cached, with peak RSS and the frame's bytes per row.

Then one 10 MB attachment (a ~13.7 MB message), over TLS as a user would connect:

- get_ours: ``EmailConnection.get_email(ref)``; get_imaplib: ``imaplib`` ``UID FETCH
  BODY.PEEK[]`` + ``email.message_from_bytes(policy=default)``, body and attachment decoded;
- send_ours: ``EmailConnection.send_email(..., attachments=[...])`` (``save_sent=False``);
  send_aiosmtplib: the stdlib ``EmailMessage`` with the same attachment + ``aiosmtplib.send``.

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
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

USER = "bob@example.org"
FOLDER = "Bench"


# What a search fetches (nb_email_conn.imap.rows.ROW_ITEMS, checked in bench()); written out so the
# floor's process does not import the package (its RSS is the socket's alone).
ITEMS = (
    "UID FLAGS RFC822.SIZE INTERNALDATE BODYSTRUCTURE "
    "BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES)]"
)
IMAPCLIENT_ITEMS = [*ITEMS.split(" ", 5)[:5], ITEMS.split(" ", 5)[5]]
METHODS = ("floor", "ours", "ours_limit100", "imapclient", "imap_tools", "cached", "cached_churn", "sync_churn")
SCALE_METHODS = ("floor", "ours", "ours_limit100", "cached")
CHURN = 0.01  # the share of the folder another client changes before each cached run
BIG_METHODS = ("get_ours", "get_imaplib", "send_ours", "send_aiosmtplib")
BIG_FOLDER = "Big"
BIG_ATTACHMENT = 10 * 1024 * 1024


# -- the corpus ----------------------------------------------------------------------------
def seed(server: Any, count: int, corpus: str, *, small: bool = False) -> None:
    """Write ``count`` messages into bob's Maildir folder (Dovecot indexes it on first use)."""
    from corpus import Realistic, uniform_message

    with server.client(USER) as client:  # creates the home and Maildir
        client.create_folder(FOLDER)
    folder = server.root / "home" / USER / "Maildir" / f".{FOLDER}"
    cur = folder / "cur"
    rnd = random.Random(42)
    realistic = Realistic()
    start = time.time() - count * 600
    for index in range(count):
        when = start + index * 600 + rnd.randint(-3000, 3000)
        flags = "S" if rnd.random() < 0.7 else ""
        flags += "F" if rnd.random() < 0.05 else ""
        path = cur / f"{int(when)}.M{index}P1.bench:2,{''.join(sorted(flags))}"
        raw = uniform_message(index, rnd, when) if corpus == "uniform" else realistic.message(index, when, small=small)
        path.write_bytes(raw)
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
    while not (line := reader.readline()).startswith(b"b "):
        if not line:
            raise SystemExit("the server closed the connection (see its log)")
    began = time.perf_counter()
    sock.sendall(b"c UID FETCH 1:* (" + ITEMS.encode() + b")\r\n")
    total = 0
    tail = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("the server closed the connection during the FETCH (see its log)")
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
    per_row = int(frame.memory_usage(deep=True).sum() / max(len(frame), 1))
    print(json.dumps({"seconds": elapsed, "rows": len(frame), "bytes_per_row": per_row}))
    return 0


def _plain_connection(port: int, *, cache: bool) -> Any:
    from nb_email_conn import ConnectionConfig, EmailConnection

    config = ConnectionConfig(
        name="bench", username=USER, imap_host="127.0.0.1", imap_port=port, imap_encryption="None",
        smtp_host="127.0.0.1", smtp_port=25, smtp_encryption="None", timeout=120,
    )  # fmt: skip
    return EmailConnection(config, password="bobpass", cache=cache)


def churn(client: Any, rnd: random.Random, share: float = CHURN) -> int:
    """Another client changes ``share`` of the folder: 60% flag changes, 20% expunged, 20% new mail."""
    from corpus import Realistic

    uids = client.search("ALL")
    n = max(5, int(len(uids) * share))
    flips = rnd.sample(uids, n * 6 // 10)
    client.add_flags(flips[: len(flips) // 2], [b"\\Flagged"])
    client.remove_flags(flips[len(flips) // 2 :], [b"\\Seen"])
    client.delete_messages(rnd.sample(uids, n // 5))
    client.expunge()
    new = Realistic(seed=rnd.randrange(1 << 30))
    for index in range(n - len(flips) - n // 5):
        client.append(FOLDER, new.message(10_000_000 + index, time.time()))
    return n


def run_cached(port: int, runs: int, method: str) -> None:
    """cached: the first search builds the index (cold), then searches with nothing changed (warm);
    cached_churn / sync_churn: before each warm run another client changes 1% of the folder (not timed),
    then a cached search / a sync is timed."""
    import tempfile

    os.environ["NB_EMAIL_CONN_HOME"] = tempfile.mkdtemp(prefix="bench-home")
    conn = _plain_connection(port, cache=True)
    other = _client(port)
    other.select_folder(FOLDER)  # read-write: the churning client
    rnd = random.Random(3)
    for run in range(runs):
        if run and method != "cached":
            churn(other, rnd)
        began = time.perf_counter()
        if method == "sync_churn" and run:
            report = conn.sync(FOLDER)
            rows = report.new + report.changed + report.vanished
        else:
            rows = len(conn.search_emails(folder=FOLDER, progress=False))
        print(json.dumps({"seconds": time.perf_counter() - began, "rows": rows}), flush=True)
    other.logout()
    conn.close()


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


def _big_payload() -> bytes:
    return random.Random(7).randbytes(BIG_ATTACHMENT)


def big_message() -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "Alice <alice@example.org>"
    message["To"] = USER
    message["Subject"] = "the 10 MB data set"
    message["Date"] = "Tue, 02 Jan 2024 10:00:00 +0000"
    message["Message-ID"] = "<big@example.org>"
    message.set_content("Hello,\nthe data is attached.\n")
    message.add_attachment(_big_payload(), maintype="application", subtype="octet-stream", filename="data.bin")
    return bytes(message)


def _connection(env: dict[str, Any]) -> Any:
    from nb_email_conn import ConnectionConfig, EmailConnection

    config = ConnectionConfig(
        name="bench",
        username=USER,
        imap_host="127.0.0.1",
        imap_port=env["imaps_port"],
        imap_encryption="SslOnConnect",
        smtp_host="127.0.0.1",
        smtp_port=env["smtp_port"],
        smtp_encryption="SslOnConnect",
        ca_file=env["ca_file"],
        timeout=120,
    )
    return EmailConnection(config, password="bobpass", policies={"send_email": "enabled"}, save_sent=False)


def run_big(method: str, env: dict[str, Any], runs: int) -> None:
    """The 10 MB get/send methods: one process, ``runs`` timed calls on one connection."""
    import asyncio
    import email
    import email.policy
    import imaplib
    import ssl

    context = ssl.create_default_context(cafile=env["ca_file"])
    payload = _big_payload()
    if method == "get_ours":
        connection = _connection(env)
        ref = connection.search_emails(folder=BIG_FOLDER)["ref"].iloc[0]

        def once() -> int:
            return len(connection.get_email(ref).attachments[0].data)
    elif method == "get_imaplib":
        imap = imaplib.IMAP4_SSL("127.0.0.1", env["imaps_port"], ssl_context=context, timeout=120)
        imap.login(USER, "bobpass")
        imap.select(BIG_FOLDER, readonly=True)

        def once() -> int:
            _, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
            message: Any = email.message_from_bytes(data[0][1], policy=email.policy.default)
            message.get_body(("plain", "html")).get_content()
            return sum(len(part.get_content()) for part in message.iter_attachments())
    elif method == "send_ours":
        connection = _connection(env)

        def once() -> int:
            connection.send_email(
                USER, "the 10 MB data set", "Hello,\nthe data is attached.\n",
                attachments=[("data.bin", payload, "application/octet-stream")],
            )  # fmt: skip
            return len(payload)
    else:
        from email.message import EmailMessage

        import aiosmtplib

        def once() -> int:
            message = EmailMessage()
            message["From"] = USER
            message["To"] = USER
            message["Subject"] = "the 10 MB data set"
            message.set_content("Hello,\nthe data is attached.\n")
            message.add_attachment(payload, maintype="application", subtype="octet-stream", filename="data.bin")
            sending = aiosmtplib.send(
                message,
                hostname="127.0.0.1",
                port=env["smtp_port"],
                use_tls=True,
                tls_context=context,
                username=USER,
                password="bobpass",
                timeout=120,
            )
            asyncio.run(sending)
            return len(payload)

    for _ in range(runs):
        began = time.perf_counter()
        size = once()
        print(json.dumps({"seconds": time.perf_counter() - began, "rows": size}), flush=True)


def child(method: str, port: int, runs: int, env: dict[str, Any] | None = None) -> int:
    """Run one method ``runs`` times in this process; print one JSON line per run, then RSS."""
    if method in BIG_METHODS:
        run_big(method, env or {}, runs)
        runs = 0
    elif method.startswith(("cached", "sync")):
        run_cached(port, runs, method)
        runs = 0
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
    print(json.dumps({"peak_rss_mb": peak_rss_kb() / 1024}))
    return 0


def peak_rss_kb() -> int:
    """This process's own peak RSS: VmHWM (reset by exec), not ru_maxrss, which keeps the high-water mark
    of the parent it was forked from (a benchmark driver holding pandas would inflate every method)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- the driver ----------------------------------------------------------------------------
def measure(method: str, port: int, runs: int, env: dict[str, Any] | None = None) -> dict[str, Any]:
    extra = ["--env", json.dumps(env)] if env else []
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, "--port", str(port), "--runs", str(runs + 1), *extra],
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
        "rows": lines[0].get("rows", lines[0].get("bytes")) if method != "sync_churn" else lines[1]["rows"],
        "per_row": lines[0].get("bytes_per_row"),
    }


def _dovecot(certs: Any) -> Any:
    """Dovecot as the tests start it, its imap processes allowed 2 GB (a 250k-message ``UID FETCH 1:*``
    needs more than the default 256 MB)."""
    from servers.dovecot import DovecotServer

    class BenchDovecot(DovecotServer):
        def _config(self, instance: str, mail_uid: int, mail_gid: int) -> str:
            return super()._config(instance, mail_uid, mail_gid) + "default_vsz_limit = 2G\n"

    return BenchDovecot(certs=certs).start()


def bench(count: int, runs: int, corpus: str, methods: tuple[str, ...] = METHODS, small: bool = False) -> list[str]:
    import tempfile

    from servers.certs import make_test_certs

    from nb_email_conn.imap.rows import ROW_ITEMS

    assert f"({ITEMS})".encode() == ROW_ITEMS, "the floor must fetch what a search fetches: update ITEMS"
    certs = make_test_certs(Path(tempfile.mkdtemp(prefix="bench-certs")))
    server = _dovecot(certs)
    try:
        began = time.perf_counter()
        seed(server, count, corpus, small=small)
        folder = server.root / "home" / USER / "Maildir" / f".{FOLDER}" / "cur"
        megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"seeded {count} {corpus} messages ({megabytes:.0f} MB) in {time.perf_counter() - began:.1f} s",
              file=sys.stderr)  # fmt: skip
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
        for method in methods:  # the churning methods last: they change the folder
            results[method] = measure(method, server.plain_port, runs)
            print(method, results[method], file=sys.stderr)
    finally:
        server.stop()
    return table(count, corpus, results, methods, megabytes, small)


def table(
    count: int, corpus: str, results: dict[str, Any], methods: tuple[str, ...], megabytes: float, small: bool
) -> list[str]:
    """The Markdown section of one folder's results."""
    floor = results["floor"]["warm"]
    lines = [
        f"### {count:,} messages, {corpus} corpus ({megabytes / count * 1000:.0f} KB average"
        + (", small bodies)" if small else ")"),
        "",
        "| method | cold (s) | warm median (s) | x floor | peak RSS (MB) | rows | frame bytes/row |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for method in methods:
        r = results[method]
        per_row = r["per_row"] if r.get("per_row") else ""
        lines.append(
            f"| {method} | {r['cold']:.3f} | {r['warm']:.3f} | {r['warm'] / floor:.2f} | {r['rss']:.0f} | {r['rows']} "
            f"| {per_row} |"
        )
    ours = results["ours"]["warm"]
    notes = [f"limit=100: {results['ours_limit100']['warm'] * 1000:.0f} ms"]
    if "imapclient" in results:
        notes.insert(0, f"ours vs imapclient: {results['imapclient']['warm'] / ours:.1f}x faster; "
                        f"vs imap_tools: {results['imap_tools']['warm'] / ours:.1f}x faster")  # fmt: skip
    lines += [
        "",
        "; ".join(notes) + ". (floor rows = bytes read; sync_churn rows = messages new + changed + vanished.)",
        "",
    ]
    return lines


def bench_big(runs: int) -> list[str]:
    import tempfile

    from servers.certs import make_test_certs
    from servers.dovecot import DovecotServer
    from servers.smtp import SmtpServer

    certs = make_test_certs(Path(tempfile.mkdtemp(prefix="bench-certs")))
    server = DovecotServer(certs=certs).start()
    smtp = SmtpServer("implicit", certs).start()
    try:
        with server.client(USER) as client:
            client.create_folder(BIG_FOLDER)
            client.append(BIG_FOLDER, big_message())
        env = {"imaps_port": server.imaps_port, "smtp_port": smtp.port, "ca_file": str(certs.ca_file)}
        results = {}
        for method in BIG_METHODS:
            results[method] = measure(method, 0, runs, env)
            smtp.reset()  # the recorder keeps every message: do not let it grow
            print(method, results[method], file=sys.stderr)
    finally:
        smtp.stop()
        server.stop()
    lines = [
        f"### One message with a {BIG_ATTACHMENT // (1024 * 1024)} MB attachment (TLS)",
        "",
        "| method | cold (s) | warm median (s) | vs raw | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for ours, raw in (("get_ours", "get_imaplib"), ("send_ours", "send_aiosmtplib")):
        for method in (ours, raw):
            r = results[method]
            ratio = r["warm"] / results[raw]["warm"]
            lines.append(f"| {method} | {r['cold']:.3f} | {r['warm']:.3f} | {ratio:.2f} | {r['rss']:.0f} |")
    lines.append("")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--corpus", nargs="+", choices=["uniform", "realistic"], default=["uniform", "realistic"])
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="also a folder this big (small bodies)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs per method (after one cold run)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.md")
    parser.add_argument("--child", choices=METHODS + BIG_METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--env", type=json.loads, help=argparse.SUPPRESS)
    parser.add_argument("--no-big", action="store_true", help="skip the 10 MB get_email / send_email part")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.port, args.runs, args.env)
    lines = [
        "# Search benchmark",
        "",
        f"`python benchmarks/search_bench.py --sizes {' '.join(map(str, args.sizes))}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        "Dovecot on loopback without TLS. Two corpora (benchmarks/corpus.py): *uniform* (~12 KB messages, few "
        "header shapes, 20% with an attachment) and *realistic* (thousands of senders and recipient lists, "
        "encoded words in many charsets, raw 8-bit headers, References chains, list headers, every body shape, "
        "1 KB - 1 MB). cached = `EmailConnection(cache=True)`: cold builds the index, warm searches with "
        "nothing changed; cached_churn / sync_churn: a search / `sync()` after another client changed 1% of "
        "the folder (flags, expunges, new mail).",
        "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M')}; load average (1/5/15 min) at the start: "
        + "/".join(f"{x:.2f}" for x in os.getloadavg())
        + ". Other work on the machine makes single numbers noisy: compare ratios within one run.",
        "",
    ]
    parts: list[Callable[[], list[str]]] = [
        partial(bench, count, args.runs, corpus) for count in args.sizes for corpus in args.corpus
    ]
    parts += [partial(bench, count, 1, "realistic", SCALE_METHODS, True) for count in args.scale]
    parts += [] if args.no_big else [partial(bench_big, args.runs)]
    for run in parts:
        lines += run()
        args.output.write_text("\n".join(lines) + "\n")  # written as it goes: a late failure keeps the rest
    lines.append("Load average at the end: " + "/".join(f"{x:.2f}" for x in os.getloadavg()) + ".")
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
