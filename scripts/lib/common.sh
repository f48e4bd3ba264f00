#!/usr/bin/env bash
# shellcheck shell=bash
# Shared helpers for RouteAll scripts. Source it; it defines functions only.
#
#   repo_root                     echo the repository root (ROUTEALL_ROOT overrides)
#   log <msg...>                  timestamped message to stderr
#   wait_for_port <port> <secs>   wait until 127.0.0.1:<port> accepts TCP; 1 on timeout
#   pidfile_kill <file> [secs]    SIGTERM the pid in <file>, wait (default 10 s), then
#                                 SIGKILL; removes <file>; 0 when nothing was running

repo_root() {
  if [[ -n "${ROUTEALL_ROOT:-}" ]]; then
    printf '%s\n' "$ROUTEALL_ROOT"
    return 0
  fi
  # BASH_SOURCE[0] is this file (scripts/lib/common.sh) even when called from elsewhere.
  (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
}

log() {
  printf '[%(%Y-%m-%d %H:%M:%S)T] %s\n' -1 "$*" >&2
}

wait_for_port() {
  local port=${1:?usage: wait_for_port <port> <timeout_s>} timeout=${2:-30}
  local deadline=$((SECONDS + timeout))
  while :; do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "port ${port} not reachable after ${timeout}s"
      return 1
    fi
    sleep 0.1
  done
}

# true when <pid> exists and is not a zombie (an unreaped zombie still answers kill -0)
_pid_alive() {
  local pid=${1:-} stat
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat:0:1}" != Z ]]
}

pidfile_kill() {
  local file=${1:?usage: pidfile_kill <pidfile> [timeout_s]} timeout=${2:-10}
  local pid
  [[ -f "$file" ]] || return 0
  pid=$(head -n1 "$file" 2>/dev/null || true)
  pid=${pid//[[:space:]]/}
  if ! _pid_alive "$pid"; then
    rm -f "$file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while _pid_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if _pid_alive "$pid"; then
    log "pid ${pid} still alive after ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while _pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  rm -f "$file"
}
