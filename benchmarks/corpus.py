"""The benchmark's mail: a uniform corpus (few header shapes) and a realistic one.

The realistic corpus is as varied as a real mailbox, so per-value caches hit as rarely as
they would there:

- ~3,000 people (names in a dozen scripts) at ~400 domains; every message draws its own
  To (1-12) and Cc (0-15) lists, so nearly every recipient list is distinct;
- display names and subjects written the ways mail software writes them: plain, quoted,
  RFC 2047 B and Q in UTF-8, ISO-8859-1/2/5/7/15, Windows-1250/1251/1252, KOI8-R,
  ISO-2022-JP, GB2312, and raw 8-bit (UTF-8 and Latin-1) without any encoding;
- threads: ~45% of messages answer an earlier one, with In-Reply-To and References
  chains (up to 40 ids, folded), some cut short, some with In-Reply-To only;
- mailing lists (List-Id, List-Unsubscribe, Precedence, Sender), and the usual trace and
  authentication headers (Received, DKIM-Signature, ARC, Authentication-Results);
- dates in many spellings (comments, no weekday, obsolete zones), a few missing or broken;
- bodies of every common shape (plain, alternative, related with inline images, mixed
  with 1-4 attachments of many types, forwarded message/rfc822, nested), sizes from 1 KB
  to 1 MB, log-normal around ~8 KB (mean ~23 KB).
"""

from __future__ import annotations

import base64
import random
import time
from email.header import Header

UNIFORM_NAMES = ["Alice Martin", "Jörg Müller", "Zoë Durand", "李雷", "Bob Smith", "Carol O'Neil"]
UNIFORM_WORDS = ["report", "invoice", "meeting", "quarterly", "update", "lunch", "project", "review", "draft", "budget"]


# -- the uniform corpus (the benchmark's first one) -------------------------------------------
def _b64_word(name: str) -> str:
    if name.isascii():
        return name
    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


def uniform_message(index: int, rnd: random.Random, when: float) -> bytes:
    sender = rnd.choice(UNIFORM_NAMES)
    subject = " ".join(rnd.choice(UNIFORM_WORDS) for _ in range(rnd.randint(2, 6))) + f" #{index}"
    if rnd.random() < 0.2:
        subject = _b64_word("Ünïcödé " + subject)
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    headers = [
        f"From: {_b64_word(sender)} <user{index % 500}@example.org>",
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
    headers += [f"Received: from mx{i}.example.org by mx.example.org; {date}" for i in range(4)]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


# -- the realistic corpus --------------------------------------------------------------------
# (first names, last names, the charsets their names are written in besides UTF-8)
_PEOPLE = {
    "en": (["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Sarah",
            "Chris", "Karen", "Daniel", "Nancy", "Paul", "Lisa"],
           ["Smith", "Johnson", "Brown", "O'Neil", "Taylor", "Wilson", "Davies", "Evans", "Walker", "Wright",
            "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green"], ["us-ascii"]),
    "de": (["Jörg", "Jürgen", "Grüße", "Björn", "Käthe", "Sören", "Uwe", "Anja", "Mößbauer", "Lena"],
           ["Müller", "Schäfer", "Groß", "Weiß", "Bäcker", "Köhler", "Schröder", "Krüger", "Hoffmann", "Wagner"],
           ["iso-8859-1", "iso-8859-15", "windows-1252"]),
    "fr": (["Zoë", "Hélène", "François", "Benoît", "Cécile", "Gaëlle", "Jérôme", "Noël", "Anaïs", "Léa"],
           ["Durand", "Lefèvre", "Gérard", "Bélanger", "Moreau", "Rousseau", "Fournier", "Girard", "Lambert"],
           ["iso-8859-1", "iso-8859-15", "windows-1252"]),
    "pl": (["Łukasz", "Małgorzata", "Wojciech", "Zofia", "Paweł", "Agnieszka", "Grzegorz", "Katarzyna"],
           ["Wiśniewski", "Wójcik", "Kowalczyk", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski"],
           ["iso-8859-2", "windows-1250"]),
    "cs": (["Jiří", "Petr", "Tomáš", "Lenka", "Kateřina", "Věra", "Miloš", "Zdeněk"],
           ["Novák", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec"],
           ["iso-8859-2", "windows-1250"]),
    "ru": (["Иван", "Мария", "Сергей", "Анна", "Дмитрий", "Ольга", "Алексей", "Татьяна"],
           ["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Новиков", "Морозова"],
           ["koi8-r", "windows-1251", "iso-8859-5"]),
    "el": (["Γιώργος", "Μαρία", "Νίκος", "Ελένη"], ["Παπαδόπουλος", "Κωνσταντίνου", "Γεωργίου", "Νικολάου"],
           ["iso-8859-7"]),
    "tr": (["Ayşe", "Mehmet", "Çağla", "Oğuz", "Şule", "İbrahim"], ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik"],
           ["iso-8859-9"]),
    "ja": (["太郎", "花子", "健", "さくら"], ["佐藤", "鈴木", "高橋", "田中"], ["iso-2022-jp"]),
    "zh": (["伟", "芳", "娜", "敏", "静"], ["王", "李", "张", "刘", "陈"], ["gb2312"]),
    "es": (["José", "María", "Íñigo", "Begoña", "Ángel", "Núria"], ["García", "Fernández", "Muñoz", "Peña", "Ibáñez"],
           ["iso-8859-1", "windows-1252"]),
}  # fmt: skip
_WORDS = {
    "en": [
        "report",
        "invoice",
        "meeting",
        "quarterly",
        "update",
        "lunch",
        "project",
        "review",
        "draft",
        "budget",
        "deadline",
        "offsite",
        "roadmap",
        "contract",
        "renewal",
        "feedback",
        "agenda",
        "minutes",
        "travel",
        "expenses",
        "hiring",
        "launch",
    ],
    "de": [
        "Rechnung",
        "Besprechung",
        "Quartalsbericht",
        "Übersicht",
        "Angebot",
        "Grüße",
        "Änderung",
        "Prüfung",
        "Bestätigung",
        "Lösung",
    ],
    "fr": [
        "réunion",
        "facture",
        "compte-rendu",
        "échéance",
        "présentation",
        "déjeuner",
        "été",
        "prévisions",
        "stratégie",
        "équipe",
    ],
    "pl": ["spotkanie", "faktura", "sprawozdanie", "żądanie", "zmiana", "część", "oferta", "umowa"],
    "cs": ["schůzka", "faktura", "zpráva", "žádost", "změna", "nabídka", "smlouva"],
    "ru": ["встреча", "счёт", "отчёт", "обновление", "проект", "бюджет", "договор"],
    "el": ["συνάντηση", "τιμολόγιο", "αναφορά", "έργο"],
    "tr": ["toplantı", "fatura", "rapor", "güncelleme", "proje", "bütçe"],
    "ja": ["会議", "請求書", "報告", "予算", "更新"],
    "zh": ["会议", "发票", "报告", "预算", "项目"],
    "es": ["reunión", "factura", "informe", "presupuesto", "revisión", "año"],
}
_TLDS = ["com", "org", "net", "de", "fr", "pl", "cz", "ru", "gr", "com.tr", "co.jp", "cn", "es", "io", "co.uk"]
_LISTS = [f"{name}.lists.example.{tld}" for name in ("dev", "announce", "users", "security", "news", "jobs")
          for tld in ("org", "net", "com")]  # fmt: skip
_ZONES = ["+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900", "-0000"]
_TYPES = [
    ("application", "pdf", "pdf"), ("image", "png", "png"), ("image", "jpeg", "jpg"),
    ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("text", "csv", "csv"), ("application", "zip", "zip"), ("text", "calendar", "ics"),
    ("application", "octet-stream", "bin"), ("application", "ms-tnef", "dat"),
]  # fmt: skip


def _encode(text: str, rnd: random.Random, charsets: list[str]) -> str:
    """``text`` as some mail program would put it in a header (an encoded word, or raw)."""
    if text.isascii():
        return text
    roll = rnd.random()
    if roll < 0.06:
        return text  # raw UTF-8 (RFC 6532 style, or just broken software)
    if roll < 0.09:
        try:  # raw Latin-1 bytes where it fits (carried as surrogates until the message is encoded)
            return text.encode("latin-1").decode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            pass
    charset = rnd.choice(["utf-8", "utf-8", *charsets])
    try:
        text.encode(charset)
    except (UnicodeEncodeError, LookupError):
        charset = "utf-8"
    return Header(text, charset).encode(maxlinelen=76, linesep="\r\n ")


class Realistic:
    """Generates the realistic corpus; one instance per folder (it remembers the threads)."""

    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        rnd = self.rnd
        domains = [f"{rnd.choice(['mail', 'corp', 'team', 'lab', 'shop', 'uni', 'gov', 'news'])}{i}."
                   f"{rnd.choice(_TLDS)}" for i in range(400)]  # fmt: skip
        self.people: list[tuple[str, str, list[str], str]] = []  # (name, address, charsets, language)
        languages = list(_PEOPLE)
        weights = [30, 10, 8, 6, 4, 6, 2, 3, 3, 3, 5]
        for i in range(3000):
            language = rnd.choices(languages, weights)[0]
            first, last, charsets = _PEOPLE[language]
            f, l_ = rnd.choice(first), rnd.choice(last)
            local = "".join(ch for ch in f"{f}.{l_}".lower() if ch.isascii() and (ch.isalnum() or ch == "."))
            local = local.strip(".") or f"u{language}"
            self.people.append((f"{f} {l_}", f"{local}{i}@{rnd.choice(domains)}", charsets, language))
        self.sent: list[tuple[str, list[str], str]] = []  # (message id, references, subject) of earlier messages

    def _person(self) -> str:
        rnd = self.rnd
        pick = rnd.randrange(3000) if rnd.random() < 0.5 else min(int(rnd.paretovariate(0.5)) - 1, 2999)
        name, address, charsets, _ = self.people[pick]
        roll = rnd.random()
        if roll < 0.12:
            return address
        if roll < 0.17:
            return f"<{address}>"
        if roll < 0.27 and name.isascii():
            return f'"{name.split()[1]}, {name.split()[0]}" <{address}>'
        return f"{_encode(name, rnd, charsets)} <{address}>"

    def _people(self, low: int, high: int) -> str:
        count = min(self.rnd.randint(low, high), int(self.rnd.expovariate(0.4)) + low)
        return ",\r\n ".join(self._person() for _ in range(count))

    def _subject(self) -> str:
        rnd = self.rnd
        _, _, charsets, language = rnd.choice(self.people)
        words = _WORDS[language]
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(2, 12)))
        if rnd.random() < 0.1:
            text = f"[{rnd.choice(['JIRA-', 'ticket #', 'PR '])}{rnd.randint(1, 99999)}] {text}"
        return _encode(text, rnd, charsets) if not text.isascii() else text

    def _date(self, when: float) -> str:
        rnd = self.rnd
        roll = rnd.random()
        if roll < 0.01:
            return ""  # no Date header
        if roll < 0.015:
            return "Date: sometime last week"
        zone = rnd.choice(_ZONES)
        stamp = time.gmtime(when)
        if roll < 0.05:
            return "Date: " + time.strftime("%d %b %Y %H:%M:%S ", stamp) + zone
        if roll < 0.08:
            return "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S ", stamp) + zone + " (UTC)"
        if roll < 0.09:
            return "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S EST", stamp)
        return "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S ", stamp) + zone

    def _threading(self, index: int) -> tuple[list[str], str | None]:
        """(header lines, subject of the answered message or None)."""
        rnd = self.rnd
        if not self.sent or rnd.random() > 0.45:
            return [], None
        parent_id, parent_refs, subject = self.sent[-min(int(rnd.expovariate(0.02)) + 1, len(self.sent))]
        chain = [*parent_refs, parent_id][-40:]
        roll = rnd.random()
        lines = [f"In-Reply-To: {parent_id}"]
        if roll < 0.1:
            pass  # In-Reply-To only
        elif roll < 0.2 and len(chain) > 4:
            lines.append("References: " + " ".join([chain[0], *chain[-3:]]))  # cut short, root kept
        else:
            lines.append("References: " + "\r\n ".join(chain))
        return lines, subject

    def message(self, index: int, when: float, *, small: bool = False) -> bytes:
        rnd = self.rnd
        message_id = f"<{rnd.getrandbits(64):x}.{index}@{self.people[index % 3000][1].split('@')[1]}>"
        thread_lines, parent_subject = self._threading(index)
        subject = (
            (rnd.choice(["Re: ", "RE: ", "AW: ", "Re: Re: ", "Fwd: "]) + parent_subject)
            if parent_subject
            else self._subject()
        )
        headers = self._trace(when)
        listed = rnd.random() < 0.25
        headers += [f"From: {self._person()}", f"To: {self._people(1, 12)}"]
        if rnd.random() < 0.45:
            headers.append(f"Cc: {self._people(1, 15)}")
        headers.append(f"Subject: {subject}")
        if date := self._date(when):
            headers.append(date)
        if rnd.random() > 0.01:
            headers.append(f"Message-ID: {message_id}")
        headers += thread_lines
        if listed:
            name = rnd.choice(_LISTS)
            headers += [
                f"List-Id: {name.split('.')[0].title()} list <{name}>",
                f"List-Unsubscribe: <mailto:leave@{name}>, <https://{name}/unsubscribe?u={rnd.getrandbits(40):x}>",
                f"List-Post: <mailto:post@{name}>",
                "Precedence: bulk",
                f"Sender: owner@{name}",
            ]
        headers += [f"X-Mailer: {rnd.choice(['Outlook 16.0', 'Thunderbird 115', 'Apple Mail', 'Mutt 2.2', 'Gmail'])}",
                    "MIME-Version: 1.0"]  # fmt: skip
        self.sent.append((message_id, [r for line in thread_lines if line.startswith("Ref") for r in line[12:].split()]
                          or ([thread_lines[0][13:]] if thread_lines else []), subject))  # fmt: skip
        size = 600 if small else int(min(max(rnd.lognormvariate(9.3, 1.45), 1024), 1024 * 1024))
        content_headers, body = self._body(size)
        return ("\r\n".join(headers + content_headers) + "\r\n\r\n" + body).encode("utf-8", "surrogateescape")

    def _trace(self, when: float) -> list[str]:
        rnd = self.rnd
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
        lines = [
            f"Received: from mx{rnd.randint(1, 99)}.example.net (mx.example.net [192.0.2.{rnd.randint(1, 254)}])\r\n"
            f"\tby mail.example.org (Postfix) with ESMTPS id {rnd.getrandbits(40):X}\r\n"
            f"\tfor <alice@example.org>; {date}"
            for _ in range(rnd.randint(2, 7))
        ]
        signature = base64.b64encode(rnd.randbytes(rnd.choice([128, 256]))).decode()
        lines.append(
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=s{rnd.randint(1, 9)};\r\n"
            f"\th=from:to:subject:date:message-id; bh={base64.b64encode(rnd.randbytes(32)).decode()};\r\n"
            f"\tb={signature[:70]}\r\n\t {signature[70:140]}\r\n\t {signature[140:]}"
        )
        lines.append("Authentication-Results: mail.example.org; spf=pass smtp.mailfrom=example.net; dkim=pass")
        if rnd.random() < 0.3:
            lines.append(
                f"ARC-Seal: i=1; a=rsa-sha256; t={int(when)}; cv=none; d=example.net; s=arc; b={signature[:60]}"
            )
        return lines

    def _filler(self, size: int) -> str:
        line = base64.b64encode(self.rnd.randbytes(57)).decode()
        return "\r\n".join([line] * max(1, size // 78))

    def _text(self, size: int) -> str:
        words = _WORDS[self.rnd.choice(list(_WORDS))]
        out, length = [], 0
        while length < size:
            row = " ".join(self.rnd.choice(words) for _ in range(12))
            out.append(row)
            length += len(row.encode()) + 2
        return "\r\n".join(out)

    def _attachment(self, boundary: str, size: int) -> str:
        rnd = self.rnd
        major, minor, ext = rnd.choice(_TYPES)
        stem = rnd.choice(["report", "scan", "Rechnung_März", "données", "zdjęcie", "отчёт", "data"])
        name = f"{stem}_{rnd.randint(1, 999)}.{ext}"
        if name.isascii():
            disposition = f'attachment; filename="{name}"'
        else:
            from urllib.parse import quote

            disposition = f"attachment; filename*=UTF-8''{quote(name)}"
        kind = rnd.choice(["attachment", "attachment", "inline"]) if major == "image" else "attachment"
        disposition = disposition.replace("attachment", kind, 1)
        return (
            f'--{boundary}\r\nContent-Type: {major}/{minor}; name="{name if name.isascii() else "file." + ext}"\r\n'
            f"Content-Disposition: {disposition}\r\nContent-Transfer-Encoding: base64\r\n\r\n{self._filler(size)}\r\n"
        )

    def _body(self, size: int) -> tuple[list[str], str]:
        rnd = self.rnd
        shape = rnd.random()
        charset = rnd.choice(["utf-8", "iso-8859-1", "windows-1252", "us-ascii"])
        text = self._text(min(size, 20_000))
        plain = f'Content-Type: text/plain; charset="{charset}"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n'
        html = f'Content-Type: text/html; charset="utf-8"\r\n\r\n<html><body><p>{text[:3000]}</p></body></html>\r\n'
        b = f"b{rnd.getrandbits(48):x}"
        if shape < 0.35:
            return [f'Content-Type: text/plain; charset="{charset}"', "Content-Transfer-Encoding: 8bit"], text + "\r\n"
        if shape < 0.6:
            return [
                f'Content-Type: multipart/alternative; boundary="{b}"'
            ], f"--{b}\r\n{plain}--{b}\r\n{html}--{b}--\r\n"
        if shape < 0.7:
            inner = f"r{b}"
            image = self._filler(max(size - 4000, 500))
            related = (
                f'Content-Type: multipart/related; boundary="{inner}"\r\n\r\n--{inner}\r\n{html}--{inner}\r\n'
                "Content-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline\r\n"
                f"Content-Transfer-Encoding: base64\r\n\r\n{image}\r\n--{inner}--\r\n"
            )
            alternative = f'Content-Type: multipart/alternative; boundary="{b}"'
            return [alternative], f"--{b}\r\n{plain}--{b}\r\n{related}--{b}--\r\n"
        if shape < 0.76:
            forwarded = (
                "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
                f"From: {self._person()}\r\nSubject: {self._subject()}\r\n"
                f"Message-ID: <fw{rnd.getrandbits(40):x}@x>\r\n"
                f"Content-Type: text/plain\r\n\r\n{self._text(max(size - 3000, 300))}\r\n"
            )
            mixed = f'Content-Type: multipart/mixed; boundary="{b}"'
            return [mixed], f"--{b}\r\n{plain}--{b}\r\n{forwarded}--{b}--\r\n"
        count = rnd.choice([1, 1, 1, 2, 2, 3, 4])
        parts = "".join(self._attachment(b, max(size - 3000, 600) // count) for _ in range(count))
        return [f'Content-Type: multipart/mixed; boundary="{b}"'], f"--{b}\r\n{plain}{parts}--{b}--\r\n"
