#!/usr/bin/env bash
# shellcheck shell=bash
# Private, project-local PostgreSQL cluster for tests. Source it; it defines functions only.
#
#   pg_start <dir> <port>   initdb <dir>/data if needed, start on 127.0.0.1:<port>, wait until
#                           ready, create database "routeall" if absent. Idempotent.
#   pg_stop <dir>           fast shutdown; no error if not running
#   pg_url <port>           echo the libpq conninfo for the "routeall" database
#   pg_data_dir <dir>       echo the directory actually used (differs from <dir> when the
#                           cluster had to be placed under /tmp, see below)
#
# Layout of <dir>: data/ (PGDATA), pg.log, sock/ (unix socket; /tmp/routeall-pgsock-<port> when
# the path would exceed the 107-byte limit).
# As root, initdb/pg_ctl run as the "postgres" user (they refuse to run as root). Every parent of
# <dir> must then be traversable by postgres; when it is not (e.g. a checkout under /root), the
# cluster goes to /tmp/routeall-pg-<port> and <dir>/redirect records that location.
# ROUTEALL_PG_FAST=1 turns off fsync, synchronous_commit and full_page_writes (tests only).
# PG_BIN may point at the server binaries (default: newest /usr/lib/postgresql/*/bin).

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    printf '%s\n' "$PG_BIN"
    return 0
  fi
  local best
  best=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  if [[ ! -x "$best/pg_ctl" ]]; then
    log "pg: no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/bootstrap)"
    return 1
  fi
  printf '%s\n' "$best"
}

# Run a command as the cluster owner: postgres when we are root, ourselves otherwise.
# cd / first so postgres never inherits an unreadable working directory (e.g. /root).
_pg_as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

_pg_abs() {
  local p=$1
  [[ "$p" == /* ]] || p="$PWD/$p"
  # normalise without requiring existence
  realpath -m -- "$p"
}

pg_data_dir() {
  local dir
  dir=$(_pg_abs "${1:?usage: pg_data_dir <dir>}")
  if [[ -f "$dir/redirect" ]]; then
    head -n1 "$dir/redirect"
  else
    printf '%s\n' "$dir"
  fi
}

pg_url() {
  local port=${1:?usage: pg_url <port>}
  printf 'host=127.0.0.1 port=%s user=postgres dbname=routeall\n' "$port"
}

# pids of live processes whose working directory is the given PGDATA (postgres chdirs there)
_pg_procs_in() {
  local data=$1 p cwd
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    [[ "$cwd" == "$data" ]] && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

_pg_is_postmaster_of() {  # <pid> <data>: is <pid> a live postgres running on <data>?
  local pid=$1 data=$2 comm cwd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ "$comm" == postgres* && "$cwd" == "$data" ]]
}

# Clear leftovers of a killed server: a postmaster.pid / socket lock naming a dead (or reused) pid,
# and orphaned backends that still hold the old shared memory segment.
_pg_clear_stale() {
  local data=$1 sock=$2 port=$3 pid lock
  [[ -f "$data/postmaster.pid" ]] || return 0
  pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null || true)
  if _pg_is_postmaster_of "$pid" "$data"; then
    return 0  # really running
  fi
  log "pg: removing stale postmaster.pid (pid ${pid:-?} is gone)"
  # orphaned children exit by themselves once they notice the postmaster died; give them a moment
  local deadline=$((SECONDS + 10)) left
  while :; do
    left=$(_pg_procs_in "$data")
    [[ -z "$left" ]] && break
    if ((SECONDS >= deadline)); then
      log "pg: killing orphaned backends: $(echo "$left" | tr '\n' ' ')"
      # shellcheck disable=SC2086
      kill -KILL $left 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$data/postmaster.pid"
  lock="$sock/.s.PGSQL.$port.lock"
  if [[ -f "$lock" ]]; then
    pid=$(head -n1 "$lock" 2>/dev/null || true)
    _pg_is_postmaster_of "$pid" "$data" || rm -f "$lock" "$sock/.s.PGSQL.$port"
  fi
}

pg_start() {
  local dir port
  dir=$(_pg_abs "${1:?usage: pg_start <dir> <port>}")
  port=${2:?usage: pg_start <dir> <port>}
  local bin
  bin=$(_pg_bin) || return 1

  # -- where the cluster lives --------------------------------------------------------------
  local root=$dir
  mkdir -p "$(dirname "$dir")"
  if [[ -f "$dir/redirect" ]]; then
    root=$(head -n1 "$dir/redirect")
  elif ((EUID == 0)) && ! runuser -u postgres -- test -x "$(dirname "$dir")" 2>/dev/null; then
    root="/tmp/routeall-pg-${port}"
    log "pg: a parent of $dir is not traversable by user postgres; using $root instead"
    mkdir -p "$dir"
    printf '%s\n' "$root" >"$dir/redirect"
  fi
  local data="$root/data" sock="$root/sock" logf="$root/pg.log"
  # socket path "<sock>/.s.PGSQL.<port>" must fit in 107 bytes
  local sockpath="$sock/.s.PGSQL.$port"
  if ((${#sockpath} > 107)); then
    sock="/tmp/routeall-pgsock-${port}"
    log "pg: socket path too long (${#sockpath} bytes); using $sock"
  fi
  if ((EUID == 0)); then
    install -d -o postgres -g postgres -m 700 "$root"
    install -d -o postgres -g postgres -m 755 "$sock"
  else
    install -d -m 700 "$root"
    install -d -m 755 "$sock"
  fi

  # -- initdb -------------------------------------------------------------------------------
  if [[ ! -f "$data/PG_VERSION" ]]; then
    if [[ -e "$data" ]]; then
      log "pg: $data is not a complete cluster (interrupted initdb?); recreating"
      rm -rf "$data"
    fi
    local initargs=(-D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8)
    [[ "${ROUTEALL_PG_FAST:-0}" == 1 ]] && initargs+=(--no-sync)
    if ! _pg_as_owner "$bin/initdb" "${initargs[@]}" >"$root/initdb.log.tmp" 2>&1; then
      cat "$root/initdb.log.tmp" >&2
      log "pg: initdb failed"
      return 1
    fi
    rm -f "$root/initdb.log.tmp"
    printf "\ninclude_if_exists = 'routeall.conf'\n" >>"$data/postgresql.conf"
  fi

  # settings rewritten on every start (the port or the socket dir may change)
  {
    echo "# written by scripts/lib/pg.sh pg_start; do not edit"
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$sock'"
    echo "max_connections = 200"
    if [[ "${ROUTEALL_PG_FAST:-0}" == 1 ]]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$data/routeall.conf"
  ((EUID == 0)) && chown postgres:postgres "$data/routeall.conf"

  # -- start --------------------------------------------------------------------------------
  _pg_clear_stale "$data" "$sock" "$port"
  if _pg_as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if pg_isready -q -h 127.0.0.1 -p "$port" -t 2; then
      log "pg: already running on port $port ($data)"
    else
      log "pg: running with other settings; restarting on port $port"
      _pg_as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 restart -l "$logf" >/dev/null 2>&1 || {
        tail -n 20 "$logf" >&2
        return 1
      }
    fi
  else
    if ! _pg_as_owner "$bin/pg_ctl" -D "$data" -l "$logf" -w -t 60 start >/dev/null 2>&1; then
      log "pg: pg_ctl start failed; last lines of $logf:"
      tail -n 20 "$logf" >&2
      return 1
    fi
  fi
  local deadline=$((SECONDS + 30))
  until pg_isready -q -h 127.0.0.1 -p "$port" -t 1; do
    if ((SECONDS >= deadline)); then
      log "pg: not ready on port $port after 30s"
      tail -n 20 "$logf" >&2
      return 1
    fi
    sleep 0.1
  done

  # -- database -----------------------------------------------------------------------------
  local have
  have=$(psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'routeall'") || return 1
  if [[ "$have" != 1 ]]; then
    psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE routeall' >/dev/null || return 1
  fi
  return 0
}

pg_stop() {
  local dir root data bin
  dir=$(_pg_abs "${1:?usage: pg_stop <dir>}")
  root=$(pg_data_dir "$dir")
  data="$root/data"
  [[ -f "$data/PG_VERSION" ]] || return 0
  [[ -f "$data/postmaster.pid" ]] || return 0
  bin=$(_pg_bin) || return 1
  local pid
  pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null || true)
  if ! _pg_is_postmaster_of "$pid" "$data"; then
    return 0  # stale pid file; pg_start cleans it up
  fi
  if ! _pg_as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1; then
    if _pg_is_postmaster_of "$pid" "$data"; then
      log "pg: fast shutdown failed; sending SIGQUIT (immediate) to $pid"
      kill -QUIT "$pid" 2>/dev/null || true
    fi
  fi
  return 0
}
