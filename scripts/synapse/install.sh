#!/usr/bin/env bash
# Installs the pinned Synapse, with the PostgreSQL driver the e2e suite needs, into a venv under
# .cache/ (git-ignored) and reuses it when present.
# Why a venv of our own: the real-homeserver tests and the demo must not depend on anything installed by hand.
set -euo pipefail

SYNAPSE_VERSION="${WARDEN_SYNAPSE_VERSION:-1.163.2}"
# The binary wheel: the source package would need libpq's headers and a C compiler.
PSYCOPG2_VERSION="2.9.13"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${WARDEN_SYNAPSE_VENV:-$root/.cache/synapse-venv}"
marker="$venv/.warden-installed-$SYNAPSE_VERSION"
driver_marker="$venv/.warden-installed-psycopg2-binary-$PSYCOPG2_VERSION"

install_driver() {
  "$venv/bin/pip" install --quiet --disable-pip-version-check "psycopg2-binary==$PSYCOPG2_VERSION"
  touch "$driver_marker"
}

if [ -f "$marker" ]; then
  # A venv made before the e2e suite moved to PostgreSQL gets the driver added, not rebuilt.
  if [ ! -f "$driver_marker" ]; then
    install_driver
    echo "psycopg2-binary $PSYCOPG2_VERSION added to $venv"
  fi
  echo "synapse $SYNAPSE_VERSION already installed in $venv"
  exit 0
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: python3 (3.10 or newer) is needed to run Synapse for the demo and the e2e tests." >&2
  echo "       Install it, e.g. 'apt-get install python3 python3-venv', or set PYTHON=/path/to/python3." >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "error: $("$python" --version 2>&1) is too old; Synapse $SYNAPSE_VERSION needs Python 3.10 or newer." >&2
  exit 1
fi
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "error: the Python venv module (with ensurepip) is missing; install it, e.g. 'apt-get install python3-venv'." >&2
  exit 1
fi

started=$(date +%s)
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION"
install_driver
touch "$marker"
echo "synapse $SYNAPSE_VERSION installed in $venv in $(( $(date +%s) - started )) s"
