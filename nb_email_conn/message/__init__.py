"""Reading (parse), writing (compose) and showing (display) email messages."""

from .compose import ComposedMessage, build_message, normalize_message_id, preview_of
from .display import email_html
from .filenames import safe_filename
from .html import html_to_markdown, html_to_text, sanitize_html
from .model import Attachment, Email
from .parse import parse_email

__all__ = [
    "Attachment",
    "ComposedMessage",
    "Email",
    "build_message",
    "email_html",
    "html_to_markdown",
    "html_to_text",
    "normalize_message_id",
    "parse_email",
    "preview_of",
    "safe_filename",
    "sanitize_html",
]
