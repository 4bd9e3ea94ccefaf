#!/usr/bin/env bash
# Create .venv and install a pinned requirements file into it, once per version of that file.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "KAPCare needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(basename "$requirements")-$(sha256sum "$requirements" requirements.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing $requirements into .venv ..."
  .venv/bin/python -m pip install --disable-pip-version-check -q -r "$requirements" 2>&1 | grep -v "WARNING: Location" || true
  .venv/bin/python -m pip check >/dev/null
  rm -f .venv/.installed-"$(basename "$requirements")"-*
  touch "$stamp"
fi
