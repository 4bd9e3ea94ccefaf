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
# No pip in the environment (ensurepip alone takes 4-7 s of a fresh clone's `make test`): uv installs the packages.
[ -x .venv/bin/python ] || "$python" -m venv --without-pip .venv
stamp=".venv/.installed-$(basename "$requirements")-$(sha256sum "$requirements" requirements.txt | sha256sum | cut -c1-16)"

# uv, pinned, beside the environment: installed by the interpreter's own pip, or by the environment's once
# ensurepip has given it one when the interpreter has none.
install_uv() {
  [ -x .venv/uv/bin/uv ] && .venv/uv/bin/uv --version 2>/dev/null | grep -qF " $UV_VERSION" && return
  rm -rf .venv/uv
  "$python" -m pip install --disable-pip-version-check -q --target .venv/uv "uv==$UV_VERSION" >/dev/null 2>&1 && return
  .venv/bin/python -m ensurepip -q >/dev/null 2>&1 &&
    .venv/bin/python -m pip install --disable-pip-version-check -q --target .venv/uv "uv==$UV_VERSION" >/dev/null 2>&1
}

if [ ! -f "$stamp" ]; then
  echo "Installing $requirements into .venv ..."
  # uv installs the same pinned packages as pip in a few seconds instead of half a minute (a fresh clone's
  # `make test` starts here). Modules are compiled when first imported, not all 8,000 up front (17 s, most never
  # imported). pip does it when uv cannot be had or fails.
  if install_uv && .venv/uv/bin/uv pip install --python .venv/bin/python -q -r "$requirements" &&
    .venv/uv/bin/uv pip check --python .venv/bin/python >/dev/null; then
    :
  else
    .venv/bin/python -m ensurepip -q >/dev/null 2>&1 || true
    .venv/bin/python -m pip install --disable-pip-version-check -q -r "$requirements" 2>&1 | grep -v "WARNING: Location" || true
    .venv/bin/python -m pip check >/dev/null
  fi
  rm -f .venv/.installed-"$(basename "$requirements")"-*
  touch "$stamp"
fi
