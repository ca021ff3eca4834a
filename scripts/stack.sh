#!/usr/bin/env bash
# The local stack without Docker: Postgres, Kafka (KRaft) and the five services as background processes.
#   stack.sh up      install if needed, start Postgres and Kafka, create the platform topics, migrate,
#                    start the services, wait until each is ready, print what is up
#   stack.sh down    stop the services, and the broker when `up` started it (a broker it found running,
#                    e.g. the test tier's, is left alone; so is Postgres, the machine's cluster)
#   stack.sh status  each service's readiness; exits 1 when one is not ready
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TZ=UTC
state=tmp/stack
services=(ingestion:3001 retrieval:3002 decisioning:3003 workflow:3004 governance:3005)
kafka_port="${KAFKA_PORT:-9092}"
# The services, the migrations and the topic tool read these; they follow the ports the scripts start on.
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$kafka_port}"
# Postgres on this machine over its Unix socket when it has one: half the CPU per statement of loopback TCP here.
if [ -S "/var/run/postgresql/.s.PGSQL.${PGPORT:-5432}" ]; then
  local_database="postgres://postgres@%2Fvar%2Frun%2Fpostgresql:${PGPORT:-5432}/postgres"
else
  local_database="postgres://postgres@127.0.0.1:${PGPORT:-5432}/postgres"
fi
export DATABASE_URL="${DATABASE_URL:-$local_database}"
ready_timeout_s="${STACK_READY_TIMEOUT_S:-180}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid of a service this script started, when that process still runs it (a stale pid file after a
# reboot may name an unrelated process by now).
service_pid() {
  local name=$1 pid
  [ -f "$state/$name.pid" ] || return 1
  pid="$(cat "$state/$name.pid")"
  ps -p "$pid" -o args= 2>/dev/null | grep -q "apps/$name/src/main.ts" || return 1
  echo "$pid"
}

ready_line() {
  local name=$1 port=$2 body
  if body="$(curl -fsS --max-time 5 "http://127.0.0.1:$port/health/ready" 2>/dev/null)"; then
    printf '  %-12s http://127.0.0.1:%s  ready      %s\n' "$name" "$port" "$body"
    return 0
  fi
  # A 503 carries the failing checks and their reasons: show them rather than just "not ready".
  body="$(curl -sS --max-time 5 "http://127.0.0.1:$port/health/ready" 2>&1 || true)"
  printf '  %-12s http://127.0.0.1:%s  NOT READY  %s\n' "$name" "$port" "${body:-no answer}"
  return 1
}

status() {
  local failed=0
  for entry in "${services[@]}"; do ready_line "${entry%%:*}" "${entry##*:}" || failed=1; done
  return $failed
}

start_service() {
  local name=$1 port=$2
  if service_pid "$name" >/dev/null; then
    echo "$name: already running (pid $(cat "$state/$name.pid"))"
    return
  fi
  if port_open "$port"; then
    echo "$name: port $port is taken by another process; stop it or run the stack elsewhere" >&2
    return 1
  fi
  # setsid: the service outlives this script and npm; `down` stops it by its pid.
  PORT="$port" setsid node -r ./tools/register.js "apps/$name/src/main.ts" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

# Waits until every service is ready; stops early when one has exited, showing the end of its log.
wait_ready() {
  local deadline=$((SECONDS + ready_timeout_s))
  while ! status >/dev/null 2>&1; do
    for entry in "${services[@]}"; do
      local name="${entry%%:*}"
      if ! service_pid "$name" >/dev/null; then
        echo "$name: exited during start; end of $state/$name.log:" >&2
        tail -20 "$state/$name.log" >&2
        return 1
      fi
    done
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "keel: not every service was ready within ${ready_timeout_s} s" >&2
      return 1
    fi
    sleep 1
  done
}

# Every service verifies bearer tokens with ACCESS_SHARED_KEY (governance also signs machine tokens with it),
# and governance keys its audit chain with GOVERNANCE_AUDIT_KEY. The local stack makes both once (kept in
# $state/secrets.env, so tokens and the audit chain stay valid across restarts) unless they are set already;
# `npm run keel -- token --tenant <t> --role <r>` signs a token with the key from that file.
local_secrets() {
  local file="$state/secrets.env"
  if [ ! -f "$file" ]; then
    (umask 077 && {
      echo "ACCESS_SHARED_KEY=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))')"
      echo "GOVERNANCE_AUDIT_KEY=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))')"
    } >"$file")
  fi
  local name value
  while IFS='=' read -r name value; do
    [ -n "${!name:-}" ] || export "$name=$value"
  done <"$file"
}

up() {
  # npm writes node_modules/.package-lock.json at the end of an install: absent or older than the lock
  # file means no complete install of the current dependencies.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  mkdir -p "$state"
  local_secrets
  bash scripts/postgres.sh
  local kafka_origin="reused: already serving"
  if [ -f "$state/kafka.started" ]; then kafka_origin="started by the stack"; fi
  if ! bash scripts/kafka/kafka.sh status; then
    bash scripts/kafka/kafka.sh start
    touch "$state/kafka.started"
    kafka_origin="started by the stack"
  fi
  local topics
  topics="$(node -r ./tools/register.js tools/ensure-topics.ts)"
  npm run --silent migrate -- all up
  for entry in "${services[@]}"; do start_service "${entry%%:*}" "${entry##*:}"; done
  echo "keel: waiting for the services to be ready (up to ${ready_timeout_s} s)"
  local ready=0
  wait_ready || ready=1

  echo
  echo "keel: local stack"
  echo "  postgres     $DATABASE_URL"
  echo "  kafka        $KAFKA_BROKERS ($kafka_origin)"
  echo "$topics" | sed 's/^/  /'
  echo "  services, with their /health/ready answer:"
  status | sed 's/^/  /' || ready=1
  if [ $ready -ne 0 ]; then
    echo "keel: some services are not ready; see $state/<service>.log" >&2
    exit 1
  fi
  echo "keel: all five services ready (logs in $state/, metrics at /metrics, OpenAPI at /docs; stop with: npm run stop:stack)"
  echo "keel: the APIs want a bearer token: export KEEL_TOKEN=\$(npm run --silent keel -- token --tenant acme --role operator)"
}

down() {
  local pids=() entry name pid
  for entry in "${services[@]}"; do
    name="${entry%%:*}"
    if pid="$(service_pid "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$name:$pid")
    fi
    rm -f "$state/$name.pid"
  done
  # A service stops gracefully within its 15 s stop timeout; past 20 s it is killed.
  for entry in "${pids[@]}"; do
    name="${entry%%:*}" pid="${entry##*:}"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "$name: killed (did not stop within 20 s)"
    else
      echo "$name: stopped"
    fi
  done
  if [ -f "$state/kafka.started" ]; then
    bash scripts/kafka/kafka.sh stop
    rm -f "$state/kafka.started"
  else
    echo "kafka: left running (the stack did not start it)"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
