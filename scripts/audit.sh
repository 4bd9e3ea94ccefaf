#!/usr/bin/env bash
# `make audit`: pip-audit over the pinned requirements (runtime and dev). Fails on a known vulnerability;
# a vulnerability service that cannot be reached (no network, an index mirror without the JSON API) only
# warns, so `make test` offline still runs. AUDIT_STRICT=1 makes an unreachable service fail too.
set -uo pipefail
cd "$(dirname "$0")/.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT

echo "== pip-audit (requirements.txt, requirements-dev.txt)"
.venv/bin/pip-audit -r requirements.txt -r requirements-dev.txt --no-deps --disable-pip --progress-spinner off \
  --vulnerability-service "${AUDIT_SERVICE:-pypi}" --timeout "${AUDIT_TIMEOUT:-15}" \
  --format json --output "$report" 2> >(grep -v -e "WARNING: Location" -e "encouraged to fully hash" -e "pip-compile" >&2)
status=$?
.venv/bin/python - "$report" "$status" "${AUDIT_STRICT:-0}" <<'PY'
import json
import sys

path, status, strict = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
try:
    with open(path) as file:
        deps = json.load(file)["dependencies"]
except (OSError, ValueError, KeyError):
    print(f"pip-audit did not finish (exit {status}): the vulnerability service was not reachable.")
    sys.exit(1 if strict else 0)
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if d.get("skip_reason")]
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        print(f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} (fixed in {fixed})")
audited = len(deps) - len(skipped)
print(f"{audited} of {len(deps)} pinned packages audited, {len(vulnerable)} with a known vulnerability.")
if skipped:
    print(f"Not audited ({len(skipped)}): the service has no record of them here, e.g. {skipped[0]['skip_reason']}")
if vulnerable:
    sys.exit(1)
if strict and skipped:
    sys.exit(1)
PY
