#!/usr/bin/env bash
# shellcheck shell=bash
# Single-node Kafka (KRaft, combined broker+controller) for tests. Source it; it defines functions only.
#
#   kafka_start <dir> <port> <controller_port>
#       write <dir>/server.properties and <dir>/log4j2.properties, format <dir>/data unless
#       <dir>/data/meta.properties exists, start the broker detached (setsid; pid in
#       <dir>/kafka.pid, output in <dir>/broker.log) and wait up to 60 s for "Kafka Server started".
#       Idempotent: returns at once when the broker of <dir> is already running.
#   kafka_stop <dir>             SIGTERM, wait up to 20 s, then SIGKILL; no error if not running
#   kafka_wait_ready <port> [timeout_s]
#       produce (idempotent, acks=all) and consume back a probe message on topic
#       "routeall.probe" with kcat, retrying until the broker takes writes (default 30 s)
#
# Topics are auto-created (auto.create.topics.enable=true, 1 partition); kcat cannot create topics.
# Jars come from <repo>/.cache/kafka/libs (scripts/bootstrap). KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS override
# the JVM settings.

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_kafka_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  else
    command -v java
  fi
}

_kafka_libs() {
  local libs
  libs="$(repo_root)/.cache/kafka/libs"
  if ! compgen -G "$libs/kafka_2.13-*.jar" >/dev/null; then
    log "kafka: no jars in $libs (run scripts/bootstrap)"
    return 1
  fi
  printf '%s\n' "$libs"
}

# pid from <dir>/kafka.pid if that process is a live Kafka broker, else nothing (exit 1)
_kafka_running_pid() {
  local dir=$1 pid
  [[ -f "$dir/kafka.pid" ]] || return 1
  pid=$(head -n1 "$dir/kafka.pid" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  printf '%s\n' "$pid"
}

kafka_start() {
  local usage='usage: kafka_start <dir> <port> <controller_port>'
  local dir=${1:?$usage} port=${2:?$usage} cport=${3:?$usage}
  local java libs pid
  java=$(_kafka_java) || { log "kafka: java not found"; return 1; }
  libs=$(_kafka_libs) || return 1
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd -P)

  if pid=$(_kafka_running_pid "$dir"); then
    log "kafka: already running (pid $pid, $dir)"
    return 0
  fi
  rm -f "$dir/kafka.pid"

  cat >"$dir/server.properties" <<EOF
# written by scripts/lib/kafka.sh kafka_start; do not edit
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dir}/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  cat >"$dir/log4j2.properties" <<'EOF'
# written by scripts/lib/kafka.sh kafka_start; do not edit
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
EOF

  # short-lived tool JVMs: fast start-up matters more than throughput
  local tool_opts=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$libs/*")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cid
    cid=$("$java" "${tool_opts[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
    if [[ -z "$cid" ]]; then
      log "kafka: StorageTool random-uuid failed"
      return 1
    fi
    if ! "$java" "${tool_opts[@]}" kafka.tools.StorageTool format --ignore-formatted \
      -t "$cid" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
      cat "$dir/format.log" >&2
      log "kafka: storage format failed"
      return 1
    fi
    log "kafka: formatted $dir/data (cluster id $cid)"
  fi

  [[ -f "$dir/broker.log" ]] && mv -f "$dir/broker.log" "$dir/broker.log.prev"
  local heap jvm
  heap=${KAFKA_HEAP_OPTS:--Xms64m -Xmx256m}
  jvm=${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=64m -Djava.awt.headless=true}
  # setsid: own session, so the broker outlives the calling shell and its job control.
  # The inner shell records its own pid and then execs java, so kafka.pid is the JVM's pid
  # whether or not setsid had to fork.
  # $heap and $jvm are split into words on purpose; the single-quoted script is for the inner bash.
  # shellcheck disable=SC2016,SC2086
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/kafka.pid" \
    "$java" $heap $jvm "-Dlog4j2.configurationFile=$dir/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/broker.log" 2>&1 </dev/null &
  disown $! 2>/dev/null || true

  local deadline=$((SECONDS + 60))
  while ! grep -q 'Kafka Server started' "$dir/broker.log" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "kafka: not started after 60s; last lines of $dir/broker.log:"
      tail -n 30 "$dir/broker.log" >&2
      kafka_stop "$dir"
      return 1
    fi
    # the pid file appears a moment after launch; once it is there the JVM must be alive
    if [[ -s "$dir/kafka.pid" ]] && ! _kafka_running_pid "$dir" >/dev/null; then
      sleep 0.2
      if ! _kafka_running_pid "$dir" >/dev/null && ! grep -q 'Kafka Server started' "$dir/broker.log"; then
        log "kafka: broker exited during start-up; last lines of $dir/broker.log:"
        tail -n 30 "$dir/broker.log" >&2
        rm -f "$dir/kafka.pid"
        return 1
      fi
    fi
    sleep 0.2
  done
  return 0
}

kafka_stop() {
  local dir=${1:?usage: kafka_stop <dir>}
  [[ -d "$dir" ]] || return 0
  if ! _kafka_running_pid "$dir" >/dev/null; then
    rm -f "$dir/kafka.pid"  # missing, stale or reused pid
    return 0
  fi
  pidfile_kill "$dir/kafka.pid" 20
}

kafka_wait_ready() {
  local port=${1:?usage: kafka_wait_ready <port> [timeout_s]} timeout=${2:-30}
  local broker="127.0.0.1:$port" topic=routeall.probe
  local deadline=$((SECONDS + timeout)) probe
  command -v kcat >/dev/null || { log "kafka: kcat not found"; return 1; }
  wait_for_port "$port" "$timeout" || return 1
  while :; do
    probe="probe-$$-${RANDOM}-$(date +%s%N)"
    if printf '%s\n' "$probe" | timeout 20 kcat -P -b "$broker" -t "$topic" \
      -X enable.idempotence=true -X acks=all -X message.timeout.ms=15000 2>/dev/null &&
      timeout 15 kcat -C -b "$broker" -t "$topic" -o beginning -e -q 2>/dev/null | grep -qxF "$probe"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "kafka: broker on port $port does not take writes after ${timeout}s"
      return 1
    fi
    sleep 0.5
  done
}
