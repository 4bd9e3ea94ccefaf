#!/usr/bin/env bash
# PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379 for the tests:
# start them when installed but stopped, install them when missing, do nothing when up.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pg_up()    { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq "$@" >/dev/null
}

if ! pg_up; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -n | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/; s/^(local\s+all\s+(postgres|all)\s+)\S+/\1trust/' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 40); do pg_up && break; sleep 0.25; done
  pg_up || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
  echo "Started PostgreSQL $version."
fi

if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 40); do redis_up && break; sleep 0.25; done
  redis_up || { echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
  echo "Started Redis."
fi

# Browser tests drive Debian's Chromium; nothing may download a browser of its own here.
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests ..."
  apt_install chromium
fi
