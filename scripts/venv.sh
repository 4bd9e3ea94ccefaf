#!/usr/bin/env bash
# Create .venv and install a pinned requirements file into it, once per version of that file.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}
python=${PYTHON:-python3}
UV_VERSION=0.13.9

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "KAPCare needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(basename "$requirements")-$(sha256sum "$requirements" requirements.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing $requirements into .venv ..."
  # uv installs the same pinned packages as pip in a few seconds instead of half a minute (a fresh clone's
  # `make test` starts here); pip does it when uv cannot be had or fails.
  if .venv/bin/python -m pip install --disable-pip-version-check -q "uv==$UV_VERSION" >/dev/null 2>&1 &&
    .venv/bin/uv pip install --python .venv/bin/python --compile-bytecode -q -r "$requirements"; then
    :
  else
    .venv/bin/python -m pip install --disable-pip-version-check -q -r "$requirements" 2>&1 | grep -v "WARNING: Location" || true
  fi
  .venv/bin/python -m pip check >/dev/null
  rm -f .venv/.installed-"$(basename "$requirements")"-*
  touch "$stamp"
fi
