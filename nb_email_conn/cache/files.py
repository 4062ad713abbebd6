"""Where a connection's index lives: ``<config folder>/cache/<connection name>/``, folders 0700, files 0600."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import InvalidInputError

CACHE_FOLDER = "cache"
INDEX_FILE = "index.sqlite3"


def cache_root() -> Path:
    from ..paths import config_dir  # the config folder ($NB_EMAIL_CONN_HOME or the user's)

    return config_dir() / CACHE_FOLDER


def cache_dir(name: str) -> Path:
    """The folder of connection ``name``'s index (not created)."""
    if not name or "/" in name or "\\" in name or name.strip(".") == "" or "\x00" in name:
        raise InvalidInputError(f"{name!r} cannot name a cache folder.", field="name")
    return cache_root() / name


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask; an older folder may be wider


def index_path(name: str) -> Path:
    """The index file of ``name``, its folders made 0700 and the file created 0600 (SQLite's journal
    files take the database file's mode)."""
    directory = cache_dir(name)
    if not directory.parent.parent.exists():
        _private_dir(directory.parent.parent)  # the config folder, as store.py makes it
    _private_dir(directory.parent)
    _private_dir(directory)
    path = directory / INDEX_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def remove_cache(name: str) -> None:
    """Delete connection ``name``'s cache folder and everything in it (nothing else)."""
    directory = cache_dir(name)
    if directory.is_symlink():
        directory.unlink()
    elif directory.exists():
        shutil.rmtree(directory)
