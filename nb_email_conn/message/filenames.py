"""Attachment file names that stay inside their folder, and writing without overwriting."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))]
)


def safe_filename(name: str, content_type: str = "application/octet-stream") -> str:
    """A file name that stays inside its folder on every OS: base name only, no control
    characters, no leading dots, at most 200 characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE_FILENAME_CHARS.sub("_", base).strip().lstrip(".").strip()
    if base.upper().split(".")[0] in _WINDOWS_RESERVED:
        base = "_" + base
    if not base:
        base = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else base[:200]
    return base


def write_new_file(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name``, or ``name (1)``, ``name (2)``... if that exists."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    candidate = folder / name
    counter = 0
    while True:
        try:
            # "xb" refuses to open an existing file, so nothing is ever clobbered.
            with candidate.open("xb") as handle:
                handle.write(data)
            return candidate
        except FileExistsError:
            counter += 1
            candidate = folder / (f"{stem} ({counter}).{ext}" if ext else f"{stem} ({counter})")
