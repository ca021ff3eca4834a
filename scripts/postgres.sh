#!/usr/bin/env bash
# Makes sure a Postgres answers on 127.0.0.1:${PGPORT:-5432}: reuses a running one, otherwise starts the
# machine's cluster (Debian's pg_ctlcluster), otherwise installs and starts Debian's postgresql package.
set -euo pipefail
port="${PGPORT:-5432}"

ready() { pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then echo "postgres: serving on 127.0.0.1:$port"; exit 0; fi

if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "postgres: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  version="$(ls /etc/postgresql | head -1)"
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$version/main/postgresql.conf"
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+all\s+)\S+/\1trust/; s/^(local\s+all\s+postgres\s+)\S+/\1trust/' "/etc/postgresql/$version/main/pg_hba.conf"
fi

version="$(ls /etc/postgresql | head -1)"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 60); do
  if ready; then
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
      psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
    echo "postgres: serving on 127.0.0.1:$port"
    exit 0
  fi
  sleep 0.5
done
echo "postgres: not ready on 127.0.0.1:$port" >&2
exit 1
