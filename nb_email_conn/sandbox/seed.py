"""The demo mailbox: ~150 realistic messages for "Acme Analytics", made deterministically.

Everything comes from ``random.Random(seed)`` and ``now``, so the same seed and date give
the same mailbox (the same Message-IDs, flags, attachments). The mix is chosen to exercise
a mail client: threads with In-Reply-To/References, HTML-only and multipart/alternative
newsletters, invoices with PDF and CSV attachments (one with an RFC 2231 file name), a
forwarded message, non-ASCII names and subjects (German, French, Spanish, Japanese), and
``\\Seen`` / ``\\Flagged`` / ``\\Answered`` / ``\\Draft`` flags spread across the folders.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as _SMTP
from email.utils import format_datetime

from .cast import (
    COLLEAGUES,
    CUSTOMERS,
    DOMAIN,
    ME,
    NEWS_TOPICS,
    NEWSLETTERS,
    NOTIFICATIONS,
    SPAM,
    THREADS,
    VENDORS,
    Person,
)
from .cast import DEMO_NAME as DEMO_NAME  # re-exported: the demo user's name
from .cast import DEMO_USER as DEMO_USER  # re-exported: the demo user's address

DEFAULT_SEED = 20240917

FOLDERS = ("INBOX", "Sent", "Drafts", "Trash", "Archive", "Junk")
"""Folders created in the sandbox. pymap has no RFC 6154 special-use flags in LIST, so the
client finds Sent/Drafts/Trash/Archive/Junk by these common names."""

# 7bit: non-ASCII bodies get quoted-printable/base64, so every message is pure ASCII on the
# wire (pymap and older clients are happiest with that); headers use RFC 2047 encoded words.
SMTP = _SMTP.clone(cte_type="7bit")

SEEN = "\\Seen"
FLAGGED = "\\Flagged"
ANSWERED = "\\Answered"
DRAFT = "\\Draft"


@dataclass(frozen=True)
class SeedMessage:
    """One message to put into the sandbox: its folder, RFC 5322 bytes, IMAP system flags
    and internal date."""

    folder: str
    data: bytes
    flags: frozenset[str]
    received: dt.datetime


def tiny_pdf(lines: list[str]) -> bytes:
    """A small, valid one-page PDF showing ``lines`` (ASCII) in Helvetica, built by hand
    with a correct cross-reference table."""
    text_ops = ["BT", "/F1 12 Tf", "72 760 Td", "16 TL"]
    for line in lines:
        safe = line.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text_ops.append(f"({safe}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


class _Builder:
    """Keeps the random source, the clock and the list of messages made so far."""

    def __init__(self, seed: int, now: dt.datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.messages: list[SeedMessage] = []

    def when(self, max_days: float = 90.0, min_days: float = 0.05) -> dt.datetime:
        offset = dt.timedelta(days=self.rng.uniform(min_days, max_days))
        return (self.now - offset).replace(microsecond=0)

    def message_id(self, domain: str) -> str:
        return f"<{self.rng.getrandbits(64):016x}.{self.rng.randrange(10**6):06d}@{domain}>"

    def base(
        self,
        sender: Person,
        to: list[Person],
        subject: str,
        date: dt.datetime,
        *,
        cc: list[Person] | None = None,
    ) -> EmailMessage:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = sender.address
        msg["To"] = [p.address for p in to]
        if cc:
            msg["Cc"] = [p.address for p in cc]
        msg["Subject"] = subject
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = self.message_id(sender.addr.partition("@")[2])
        return msg

    def add(self, folder: str, msg: EmailMessage, date: dt.datetime, *flags: str) -> None:
        received = date + dt.timedelta(seconds=self.rng.randint(2, 90))
        # The email package picks random MIME boundaries; derive them from the seed instead.
        for part in msg.walk():
            if part.is_multipart():
                part.set_boundary(f"=_acme_{self.rng.getrandbits(48):012x}")
        self.messages.append(SeedMessage(folder, msg.as_bytes(policy=SMTP), frozenset(flags), received))

    def inbox_flags(self, seen_ratio: float = 0.7, flagged_ratio: float = 0.08) -> tuple[str, ...]:
        flags = []
        if self.rng.random() < seen_ratio:
            flags.append(SEEN)
        if self.rng.random() < flagged_ratio:
            flags.append(FLAGGED)
        return tuple(flags)


def _signature(person: Person) -> str:
    return f"\n-- \n{person.name}\nAcme Analytics\n"


def _threads(b: _Builder) -> None:
    for index, (subject, opening, replies) in enumerate(THREADS):
        cast = b.rng.sample(COLLEAGUES, 3)
        # Some threads are started by a customer, some by the demo user.
        starter = CUSTOMERS[index % len(CUSTOMERS)] if "escalation" in subject.lower() else cast[0]
        if index % 4 == 1:
            starter = ME
        participants = [starter, *[p for p in cast if p != starter]]
        if ME not in participants:
            participants.append(ME)
        date = b.when(85, 8)
        archived = date < b.now - dt.timedelta(days=60)
        others = [p for p in participants if p != starter]
        msg = b.base(starter, others[:2], subject, date, cc=others[2:])
        msg.set_content(opening + _signature(starter))
        first_id = str(msg["Message-ID"])
        folder = "Sent" if starter == ME else ("Archive" if archived else "INBOX")
        references = [first_id]
        last_sender = starter
        messages_in_thread: list[tuple[EmailMessage, dt.datetime, str]] = [(msg, date, folder)]
        for reply_index, text in enumerate(replies):
            date = date + dt.timedelta(hours=b.rng.uniform(0.3, 30))
            pool = [p for p in participants if p != last_sender]
            sender = ME if reply_index == 1 and ME in pool else b.rng.choice(pool)
            to = [last_sender, *[p for p in participants if p not in (sender, last_sender)][:2]]
            reply = b.base(sender, to, f"Re: {subject}", date)
            reply["In-Reply-To"] = references[-1]
            reply["References"] = " ".join(references)
            quoted = "\n".join("> " + line for line in opening.splitlines()[:3])
            reply.set_content(
                f"{text}\n{_signature(sender)}\nOn {format_datetime(date)}, {last_sender.name} wrote:\n{quoted}\n"
            )
            references.append(str(reply["Message-ID"]))
            folder = "Sent" if sender == ME else ("Archive" if archived else "INBOX")
            messages_in_thread.append((reply, date, folder))
            last_sender = sender
        for position, (item, item_date, item_folder) in enumerate(messages_in_thread):
            if item_folder == "Sent":
                b.add(item_folder, item, item_date, SEEN)
                continue
            # A message the demo user answered later in the thread carries \Answered.
            answered = any(f == "Sent" for _, _, f in messages_in_thread[position + 1 :])
            flags = [SEEN] if (archived or position < len(messages_in_thread) - 1) else list(b.inbox_flags(0.4, 0.3))
            if answered:
                flags.append(ANSWERED)
            b.add(item_folder, item, item_date, *flags)


def _newsletters(b: _Builder) -> None:
    for issue in range(36):
        title, sender_addr, kind = NEWSLETTERS[issue % len(NEWSLETTERS)]
        topic = NEWS_TOPICS[b.rng.randrange(len(NEWS_TOPICS))]
        date = b.when(89, 0.2)
        sender = Person(title, sender_addr)
        number = 100 + issue
        subject = f"{title} #{number}: {topic}" if kind != "text" else f"[{title}] Scheduled maintenance #{number}"
        msg = b.base(sender, [ME], subject, date)
        msg["List-Unsubscribe"] = f"<mailto:unsubscribe@{sender_addr.partition('@')[2]}?subject=unsub-{number}>"
        msg["List-Id"] = f"{title} <{title.lower().replace(' ', '-')}.list.example>"
        text = (
            f"{topic}\n\nThis week: {topic.lower()}, plus links from the community.\n"
            f"Read online: https://{sender_addr.partition('@')[2]}/issues/{number}\n"
        )
        html = (
            '<!doctype html><html><body style="font-family: sans-serif">'
            f"<h1>{title} #{number}</h1><h2>{topic}</h2>"
            f"<p>This week: <b>{topic.lower()}</b>, plus links from the community.</p>"
            "<table><tr><td>Reading time</td><td>4 min</td></tr></table>"
            f'<p><a href="https://{sender_addr.partition("@")[2]}/issues/{number}">Read online</a></p>'
            "</body></html>"
        )
        if kind == "alternative":
            msg.set_content(text)
            msg.add_alternative(html, subtype="html")
        elif kind == "html":
            msg.set_content(html, subtype="html")
        else:
            msg.set_content(f"Maintenance window on {date:%Y-%m-%d} 22:00-23:00 UTC. No action needed.\n")
        folder = "Archive" if issue % 7 == 3 else ("Trash" if issue % 10 == 9 else "INBOX")
        b.add(folder, msg, date, *b.inbox_flags(0.5, 0.0))


def _invoice_csv(items: list[tuple[str, int, float]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "quantity", "unit_price_eur", "total_eur"])
    for name, qty, price in items:
        writer.writerow([name, qty, f"{price:.2f}", f"{qty * price:.2f}"])
    return out.getvalue()


def _invoices(b: _Builder) -> None:
    for n in range(18):
        vendor, addr, products = VENDORS[n % len(VENDORS)]
        date = b.when(88, 0.5)
        number = f"INV-{date:%Y}-{1000 + n * 7}"
        items = [(p, b.rng.randint(1, 40), round(b.rng.uniform(3, 250), 2)) for p in products]
        total = sum(q * p for _, q, p in items)
        german = vendor.startswith("Papier")
        subject = f"Rechnung {number} — fällig in 14 Tagen" if german else f"Invoice {number} from {vendor}"
        msg = b.base(Person(vendor, addr), [ME], subject, date)
        body = (
            f"Guten Tag,\n\nanbei Rechnung {number} über {total:.2f} EUR.\n\nMit freundlichen Grüßen\n{vendor}\n"
            if german
            else f"Hello,\n\nplease find invoice {number} attached. Amount due: {total:.2f} EUR.\n\n{vendor} billing\n"
        )
        msg.set_content(body)
        pdf = tiny_pdf([vendor, f"Invoice {number}", f"Date: {date:%Y-%m-%d}", f"Total: {total:.2f} EUR"])
        filename = f"Rechnung {number} März.pdf" if german and n % 2 == 0 else f"{number}.pdf"
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
        if n % 3 != 1:
            msg.add_attachment(
                _invoice_csv(items).encode(), maintype="text", subtype="csv", filename=f"{number}-items.csv"
            )
        folder = "Archive" if n % 5 == 4 else "INBOX"
        flags = [SEEN] if folder == "Archive" else list(b.inbox_flags(0.6, 0.2))
        b.add(folder, msg, date, *flags)


def _notifications(b: _Builder) -> None:
    for n in range(36):
        template = NOTIFICATIONS[n % len(NOTIFICATIONS)]
        subject = template.format(n=300 + n)
        date = b.when(60, 0.1)
        automated = subject.startswith("[")
        sender = Person("Acme CI", f"ci@{DOMAIN}") if automated else Person("Acme Portal", f"noreply@{DOMAIN}")
        msg = b.base(sender, [ME], subject, date)
        msg["Auto-Submitted"] = "auto-generated"
        if subject == "Weekly KPI export":
            rows = [("week", "signups", "activations", "mrr_eur")]
            for w in range(6):
                signups, activations, mrr = b.rng.randint(80, 160), b.rng.randint(40, 90), b.rng.randint(90000, 120000)
                rows.append((f"2024-W{30 + w}", str(signups), str(activations), str(mrr)))
            msg.set_content("Your weekly KPI export is attached.\n")
            data = "\n".join(",".join(r) for r in rows) + "\n"
            msg.add_attachment(data.encode(), maintype="text", subtype="csv", filename="kpi_weekly.csv")
        else:
            msg.set_content(f"{subject}\n\nDetails: https://portal.{DOMAIN}/events/{b.rng.randrange(10**6)}\n")
        b.add("INBOX", msg, date, *b.inbox_flags(0.75, 0.02))


def _personal(b: _Builder) -> None:
    notes = (
        (COLLEAGUES[0], "Mittagessen am Freitag?", "Hast du Freitag Zeit? Das Café an der Ecke hat wieder offen."),
        (COLLEAGUES[1], "Zoë's leaving drinks 🥂", "It has been a great three years. Drinks on Thursday from 6 pm!"),
        (COLLEAGUES[3], "資料の確認をお願いします", "明日の会議資料を共有フォルダに置きました。ご確認ください。"),
        (COLLEAGUES[2], "¿Café mañana?", "¿Te viene bien un café mañana a las diez?"),
        (COLLEAGUES[5], "Quick question about the churn model", "Which features did we drop in v2?"),
        (CUSTOMERS[1], "Renewal quote for Initech", "Could you send the renewal quote, with the SSO add-on?"),
        (CUSTOMERS[2], "Thanks for the workshop", "The team loved the notebook workshop. Can we get the slides?"),
    )
    for sender, subject, text in notes:
        date = b.when(30, 0.1)
        msg = b.base(sender, [ME], subject, date)
        msg.set_content(text + "\n" + _signature(sender))
        b.add("INBOX", msg, date, *b.inbox_flags(0.5, 0.3))
    # A forwarded message: an attached message/rfc822 part.
    date = b.when(20, 1)
    inner = b.base(CUSTOMERS[0], [COLLEAGUES[4]], "Contract renewal terms", date - dt.timedelta(days=2))
    inner.set_content("Please find our proposed renewal terms below: 24 months, 5% uplift.\n")
    fwd = b.base(COLLEAGUES[4], [ME], "Fwd: Contract renewal terms", date)
    fwd.set_content("FYI, see the forwarded message from Globex.\n" + _signature(COLLEAGUES[4]))
    fwd.add_attachment(inner)
    b.add("INBOX", fwd, date, FLAGGED)


def _sent_drafts_trash_junk(b: _Builder) -> None:
    for person, subject, text in (
        (COLLEAGUES[5], "Slides for Thursday", "Attached are the slides; the notebook is in the repo."),
        (CUSTOMERS[0], "Follow-up: retention workshop", "Thank you for your time today. Summary below."),
        (COLLEAGUES[7], "Access to the warehouse", "Could you grant me read access to the finance schema?"),
    ):
        date = b.when(45, 1)
        msg = b.base(ME, [person], subject, date)
        msg.set_content(text + "\n" + _signature(ME))
        b.add("Sent", msg, date, SEEN)
    for person, subject, text in (
        (COLLEAGUES[0], "Feedback on the Q3 deck", "Hi Jörg, a few thoughts on the deck:\n\n1. "),
        (CUSTOMERS[1], "Re: Renewal quote for Initech", "Dear Kenji, the quote for"),
    ):
        date = b.when(5, 0.1)
        msg = b.base(ME, [person], subject, date)
        msg.set_content(text + "\n")
        b.add("Drafts", msg, date, SEEN, DRAFT)
    for subject, addr in SPAM:
        date = b.when(40, 0.1)
        msg = b.base(Person("", addr), [ME], subject, date)
        msg.set_content("Click here to claim: http://claim.invalid/\n")
        b.add("Junk", msg, date)
    for n in range(3):
        date = b.when(50, 2)
        msg = b.base(Person("Acme Portal", f"noreply@{DOMAIN}"), [ME], f"Password expiry reminder ({n + 1}/3)", date)
        msg.set_content("Your portal password expires soon.\n")
        b.add("Trash", msg, date, SEEN)


def generate(*, seed: int = DEFAULT_SEED, now: dt.datetime | None = None) -> list[SeedMessage]:
    """The demo mailbox, oldest first. The same ``seed`` and ``now`` give the same bytes."""
    if now is None:
        now = dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    builder = _Builder(seed, now.replace(microsecond=0))
    for part in (_threads, _newsletters, _invoices, _notifications, _personal, _sent_drafts_trash_junk):
        part(builder)
    return sorted(builder.messages, key=lambda m: m.received)


def count_by_folder(messages: list[SeedMessage]) -> dict[str, int]:
    counts = dict.fromkeys(FOLDERS, 0)
    for message in messages:
        counts[message.folder] += 1
    return counts
