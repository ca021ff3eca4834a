#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker + controller in one JVM) without Docker.
# The broker jars come from Maven Central through pom.xml; ~/.m2 caches them between runs.
#   kafka.sh start [--fresh]
#                    resolve (once), format the data folder (once), start on 127.0.0.1:$KAFKA_PORT and wait
#                    until it serves; the broker keeps its topics and records across stop/start, --fresh
#                    deletes them first
#   kafka.sh stop    stop the broker this script started
#   kafka.sh status  exit 0 when a broker answers on the port
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
state="${KEEL_KAFKA_HOME:-$root/.kafka}"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
libs="$state/libs"
pid_file="$state/kafka.pid"
log_file="$state/kafka.log"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

resolve() {
  if [ -f "$libs/.resolved" ] && cmp -s "$here/pom.xml" "$libs/.resolved"; then return; fi
  echo "kafka: resolving broker from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  # Maven's output (colour resets even with -q) goes to a log, shown when the resolution fails.
  if ! mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" \
    >"$state/resolve.log" 2>&1; then
    echo "kafka: resolving the broker failed; see $state/resolve.log" >&2
    tail -20 "$state/resolve.log" >&2
    exit 1
  fi
  cp "$here/pom.xml" "$libs/.resolved"
}

write_properties() {
  local data="$1"
  cat >"$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
log.cleaner.dedupe.buffer.size=1048577
num.network.threads=2
num.io.threads=2
PROPS
}

start() {
  local fresh="${1:-}"
  if port_open "$port"; then echo "kafka: already serving on 127.0.0.1:$port"; return; fi
  command -v java >/dev/null || { echo "kafka: java (17+) is required" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "kafka: maven is required to resolve the broker" >&2; exit 1; }
  mkdir -p "$state"
  resolve
  local data="$state/data"
  [ "$fresh" = "--fresh" ] && rm -rf "$data"
  write_properties "$data"
  # A formatted folder (meta.properties) holds an earlier run's topics and records: start on it as it is.
  if [ ! -f "$data/meta.properties" ]; then
    local cluster_id
    cluster_id="$(node -e "let id;do{id=require('crypto').randomBytes(16).toString('base64url')}while(id.startsWith('-'));process.stdout.write(id)")"
    java -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" >"$state/format.log" 2>&1
  fi
  # setsid: the broker must outlive the shell (and test runner) that started it.
  setsid java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.net.preferIPv4Stack=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >"$log_file" 2>&1 < /dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 1 120); do
    if grep -q "Kafka Server started" "$log_file" 2>/dev/null || port_open "$port"; then
      if port_open "$port"; then echo "kafka: serving on 127.0.0.1:$port (pid $(cat "$pid_file"))"; return; fi
    fi
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then echo "kafka: broker exited; see $log_file" >&2; tail -20 "$log_file" >&2; exit 1; fi
    sleep 0.5
  done
  echo "kafka: not serving after 60 s; see $log_file" >&2
  exit 1
}

stop() {
  [ -f "$pid_file" ] || { echo "kafka: not started by this script"; return; }
  local pid; pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  echo "kafka: stopped"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) port_open "$port" ;;
  *) echo "usage: $0 start [--fresh]|stop|status" >&2; exit 2 ;;
esac
