#!/usr/bin/env bash
# The local stack without Docker: Kafka (KRaft) + Postgres + the five services as background processes.
#   stack.sh up     install if needed, start everything, wait for readiness, print what is up
#   stack.sh down   stop the services and the broker started here
#   stack.sh status print each service's readiness
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TZ=UTC
state=tmp/stack
services=(ingestion:3001 retrieval:3002 decisioning:3003 workflow:3004 governance:3005)

ready_line() {
  local name=$1 port=$2 body
  if body="$(curl -fsS --max-time 2 "http://127.0.0.1:$port/health/ready" 2>/dev/null)"; then
    printf '  %-12s http://127.0.0.1:%s  ready  %s\n' "$name" "$port" "$body"
    return 0
  fi
  printf '  %-12s http://127.0.0.1:%s  NOT READY\n' "$name" "$port"
  return 1
}

status() {
  local failed=0
  for entry in "${services[@]}"; do ready_line "${entry%%:*}" "${entry##*:}" || failed=1; done
  return $failed
}

up() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi
  bash scripts/postgres.sh
  bash scripts/kafka/kafka.sh start
  mkdir -p "$state"
  npm run --silent migrate -- all up
  for entry in "${services[@]}"; do
    local name="${entry%%:*}" port="${entry##*:}"
    if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then continue; fi
    PORT="$port" setsid node -r ./tools/register.js "apps/$name/src/main.ts" >"$state/$name.log" 2>&1 </dev/null &
    echo $! >"$state/$name.pid"
  done
  for _ in $(seq 1 120); do
    if status >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  echo "keel: local stack"
  echo "  kafka        127.0.0.1:${KAFKA_PORT:-9092}"
  echo "  postgres     127.0.0.1:${PGPORT:-5432}"
  if status; then
    echo "keel: all five services ready (logs in $state/, metrics at /metrics; stop with: npm run stop:stack)"
  else
    echo "keel: some services are not ready; see $state/*.log" >&2
    exit 1
  fi
}

down() {
  for entry in "${services[@]}"; do
    local pid_file="$state/${entry%%:*}.pid"
    [ -f "$pid_file" ] || continue
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  done
  bash scripts/kafka/kafka.sh stop
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
