"""The config folder: ``$NB_EMAIL_CONN_HOME``, else the user's config directory.

It holds ``connections.toml`` (``store.py``) and ``cache/<connection name>/`` (the local
index, ``cache/files.py``). Its own module so the index finds it without importing the store.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "NB_EMAIL_CONN_HOME"


def config_dir() -> Path:
    """The folder of ``connections.toml``: ``$NB_EMAIL_CONN_HOME``, else the user config dir."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("nb-email-conn", appauthor=False))
