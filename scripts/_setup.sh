# Shared by scripts/demo and scripts/test: make a fresh machine ready. Sourced, not run.
# Installs Debian packages when running as root, a virtualenv in .venv, the package with
# the given extras, and the front end's npm packages (the wheel build bundles the JS).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${NB_EMAIL_CONN_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  # apt_install CMD PACKAGE...: install the packages when CMD is missing and we are root.
  local cmd="$1"; shift
  if command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: $*"
    if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; _APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    log "warning: $cmd is missing and we are not root; install $* yourself"
  fi
}

setup_python() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  log "installing nb-email-conn[$extras] (editable) and its dependencies"
  "$VENV/bin/python" -m pip install -q -e ".[$extras]"
}

setup_js() {
  if ! command -v npm >/dev/null 2>&1; then
    apt_install npm nodejs npm
  fi
  log "installing npm packages and building the widgets"
  (cd js && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
}
