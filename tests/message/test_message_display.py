"""The notebook display never runs message HTML and never loads anything remote."""

from __future__ import annotations

import html
import os
import re
import shutil
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from nb_email_conn.message import email_html, html_to_markdown, parse_email, sanitize_html

CORPUS = Path(__file__).parent / "corpus"

HOSTILE = """
<html><head>
<meta http-equiv="refresh" content="0;url=https://evil.example/refresh">
<link rel="stylesheet" href="https://evil.example/style.css">
<base href="https://evil.example/">
<style>@import url("https://evil.example/import.css"); body { background: url(https://evil.example/bg.png) }
.x { background-image: u\\72l(//evil.example/escaped.png) }
.y { content: "\\3c /style><script>alert(1)</script>" }</style>
<script>window.parent.pwned = 1</script>
</head><body onload="alert('onload')" background="https://evil.example/body.png">
<p style="background:url('http://evil.example/inline.png');color:red">Styled text</p>
<img src="https://evil.example/pixel.gif" onerror="alert(1)" alt="tracker">
<img src="//evil.example/protocol-relative.gif">
<img srcset="https://evil.example/a.png 1x, data:image/png;base64,AAAA 2x">
<img src="/relative/path.png">
<a href="javascript:alert('link')">js link</a>
<a href=" JaVaScRiPt:alert(2)">js link 2</a>
<a href="https://example.com/page" onclick="steal()">real link</a>
<iframe src="https://evil.example/frame"></iframe>
<object data="https://evil.example/flash.swf"><embed src="https://evil.example/embed.swf"></object>
<svg><image href="https://evil.example/svg.png"/><script>alert(3)</script></svg>
<form action="https://evil.example/post"><input name="password"><button formaction="https://evil.example/b">Go</button></form>
<video poster="https://evil.example/poster.jpg"><source src="https://evil.example/v.mp4"></video>
<table background="https://evil.example/table.png"><tr><td>cell</td></tr></table>
<!--[if IE]><script>alert(4)</script><![endif]-->
<p>Visible &amp; kept</p>
</body></html>
"""


def _message(html_body: str | None, text: str = "plain body", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.get("From", "Mallory <mallory@example.org>")
    message["To"] = "victim@example.org"
    message["Subject"] = headers.get("Subject", "Hello")
    message["Date"] = "Mon, 06 Mar 2023 07:00:00 +0000"
    if html_body is None:
        message.set_content(text)
    else:
        message.set_content(html_body, subtype="html")
    return message.as_bytes()


def _srcdoc(display: str) -> str:
    match = re.search(r'<iframe sandbox="" [^>]*srcdoc="([^"]*)"', display)
    assert match, 'the HTML body must be inside <iframe sandbox="">'
    return html.unescape(match.group(1))


def test_hostile_html_is_sandboxed_and_sanitised() -> None:
    display = email_html(parse_email(_message(HOSTILE)))
    assert display.count("<iframe") == 1
    document = _srcdoc(display)
    lowered = document.lower()
    assert "evil.example" not in lowered
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert re.search(r"\son[a-z]+\s*=", lowered) is None
    for tag in ("<iframe", "<object", "<embed", "<link", "<form", "<input", "<svg", "<video", "<base href"):
        assert tag not in lowered
    assert "refresh" not in lowered
    assert "/relative/path.png" not in lowered
    assert "Visible &amp; kept" in document
    assert "Styled text" in document
    assert "color:red" in document
    assert '<a href="https://example.com/page" target="_blank" rel="noopener noreferrer">real link</a>' in document


def test_csp_comes_first_in_the_frame() -> None:
    document = _srcdoc(email_html(parse_email(_message("<p>hi</p>"))))
    head = document.split("<body>", 1)[0]
    assert head.startswith('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy"')
    assert "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'" in head


def test_style_cannot_break_out_of_its_element() -> None:
    cleaned = sanitize_html("<style>p{}\\3c /style><img src=x onerror=alert(1)></style><p>after</p>")
    assert cleaned.count("</style>") == 1
    assert "<img" not in cleaned.split("</style>")[0]
    unclosed = sanitize_html("<style>p { color: red }")
    assert unclosed.endswith("</style>")


def test_attribute_values_cannot_break_out() -> None:
    cleaned = sanitize_html('<p title="&quot;><script>alert(1)</script>">x</p>')
    assert "<script" not in cleaned
    assert cleaned == '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</p>'


def test_inline_cid_images_become_data_urls() -> None:
    email = parse_email((CORPUS / "03_nested_multipart.eml").read_bytes())
    document = _srcdoc(email_html(email))
    assert 'src="data:image/png;base64,iVBORw0KGgo' in document
    assert "cid:logo" not in document


def test_plain_text_is_escaped_in_pre() -> None:
    email = parse_email(_message(None, text="<script>alert(1)</script> & co"))
    display = email_html(email)
    assert "<iframe" not in display
    assert "<pre" in display
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in display
    assert "<script" not in display


def test_header_block_is_escaped() -> None:
    email = parse_email(_message(None, Subject="<img src=x onerror=alert(1)>", From='"<b>Bold</b>" <b@example.org>'))
    display = email_html(email)
    assert "<img" not in display
    assert "<b>" not in display
    assert "&lt;img src=x onerror=alert(1)&gt;" in display


def test_repr_html_lists_attachments_with_sizes() -> None:
    email = parse_email((CORPUS / "05_rfc2231_filename.eml").read_bytes())
    display = email._repr_html_()
    assert "Grüße €.pdf (36 B)" in display
    assert "RFC 2231 file names" in display
    assert "2023-03-04 10:00 UTC" in display


@pytest.mark.parametrize(
    "fragment",
    [
        '<img src="https://evil.example/x.png">',
        '<img src=" https://evil.example/x.png">',
        "<img src=&#104;ttps://evil.example/x.png>",
        '<div style="background:url(&quot;https://evil.example/x&quot;)">',
        '<div style="background-image:image-set(&quot;https://evil.example/x.png&quot; 1x)">',
        '<input type="image" src="https://evil.example/x.png">',
        '<body background="https://evil.example/x.png">',
        '<a ping="https://evil.example/ping" href="#top">x</a>',
        "<style>@font-face { src: url(https://evil.example/f.woff) }</style>",
        "<style>/* */@im/**/port 'https://evil.example/x.css';</style>",
    ],
)
def test_remote_resources_are_removed(fragment: str) -> None:
    assert "evil.example" not in sanitize_html(fragment)


@pytest.mark.parametrize(
    "fragment",
    [
        '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
        '<img src="cid:not-in-the-message">',
        "<template><script>alert(1)</script></template>",
    ],
)
def test_nothing_can_run_or_point_outside_the_message(fragment: str) -> None:
    cleaned = sanitize_html(fragment).lower()
    for bad in ("<script", "onerror", "<img src=x", "javascript", "data:text", "cid:"):
        assert bad not in cleaned, (fragment, cleaned)


def test_text_and_markdown_come_from_the_same_sanitised_html() -> None:
    email = parse_email(_message(HOSTILE))
    for text in (email.text, html_to_markdown(HOSTILE)):
        assert "Visible & kept" in text
        assert "[real link](https://example.com/page)" in text
        for gone in ("evil.example", "alert", "javascript", "pixel", "color:red", "<"):
            assert gone not in text, gone


# --------------------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required under CI")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.fixture
def tracker() -> Iterator[tuple[str, list[str]]]:
    """A loopback web server standing in for the sender's tracking host; it records hits.
    (Playwright's request routing does not see requests from sandboxed srcdoc frames.)"""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_in_chromium_nothing_loads_and_nothing_runs(page: Any, tracker: tuple[str, list[str]]) -> None:
    host, hits = tracker
    hostile = HOSTILE.replace("https://evil.example", f"http://{host}").replace("evil.example", host)
    hostile += f"<script>new Image().src='http://{host}/script-ran'</script>"
    display = email_html(parse_email(_message(hostile)))
    # Control: the same markup unsanitised in a plain frame does reach the tracker.
    control = f'<iframe srcdoc="{html.escape(hostile, quote=True)}"></iframe>'
    page.set_content(f"<!DOCTYPE html><html><body>{display}</body></html>", wait_until="load")
    page.wait_for_timeout(500)
    body_text = page.frames[1].inner_text("body")
    assert "Visible & kept" in body_text
    assert "real link" in body_text
    assert hits == []
    page.set_content(f"<!DOCTYPE html><html><body>{control}</body></html>", wait_until="load")
    page.wait_for_timeout(500)
    assert "/pixel.gif" in hits
    assert "/script-ran" in hits
