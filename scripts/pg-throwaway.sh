#!/usr/bin/env bash
# A throw-away PostgreSQL 15 on 127.0.0.1 for tests.
#
#   eval "$(scripts/pg-throwaway.sh start DIR)"   # exports TANFANG_TEST_PG
#   scripts/pg-throwaway.sh stop DIR
#
# DIR only holds bookkeeping (it may live anywhere, even under /root). The
# cluster itself lives in a fresh folder under /tmp owned by the user that runs
# the server: initdb and postgres refuse to run as root, so as root the server
# runs as the `postgres` system user. Durability is switched off for speed;
# the data is gone after stop.
#
# Only the export line goes to stdout; everything else goes to stderr. If start
# fails it prints `false` to stdout, so `eval "$(...)"` fails too instead of
# silently exporting nothing.
# shellcheck disable=SC2016 # in sh -c '..."$1"...' the inner shell expands $1
set -euo pipefail

PG_VERSION=15
DB_NAME=tanfang_test
DB_USER=tanfang

log() { echo "pg-throwaway: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() { die "usage: $0 start DIR | stop DIR"; }

# pg_bin finds the PostgreSQL 15 programs, installing them on a fresh machine.
pg_bin() {
  local bin=${PGBIN:-/usr/lib/postgresql/$PG_VERSION/bin}
  if [[ ! -x "$bin/initdb" ]]; then
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL $PG_VERSION not found in $bin; install postgresql-$PG_VERSION"
    log "installing postgresql-$PG_VERSION"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q "postgresql-$PG_VERSION"; } >&2 ||
      die "apt-get install postgresql-$PG_VERSION failed"
    [[ -x "$bin/initdb" ]] || die "postgresql-$PG_VERSION installed but $bin/initdb is missing"
  fi
  echo "$bin"
}

# run_user names the user the server runs as: the caller, unless that is root.
run_user() {
  if [[ $(id -u) -ne 0 ]]; then
    id -un
    return
  fi
  if ! getent passwd postgres >/dev/null; then
    log "creating system user postgres"
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
      --shell /usr/sbin/nologin postgres >&2 || die "cannot create user postgres"
  fi
  echo postgres
}

# as_user runs a command as the server's user.
as_user() {
  local user=$1
  shift
  if [[ "$user" == "$(id -un)" ]]; then
    "$@"
  else
    runuser -u "$user" -- "$@"
  fi
}

# free_port picks a random unprivileged port nobody is listening on. Another
# process may still take it before postgres binds; start retries for that.
free_port() {
  local port _
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if command -v ss >/dev/null; then
      ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# running tells whether the cluster recorded in DIR is up.
running() {
  local dir=$1 root user bin
  [[ -f "$dir/pg.root" && -f "$dir/pg.user" && -f "$dir/pg.bin" && -f "$dir/pg.url" ]] || return 1
  root=$(<"$dir/pg.root") user=$(<"$dir/pg.user") bin=$(<"$dir/pg.bin")
  [[ -d "$root/data" ]] || return 1
  as_user "$user" "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1
}

stop() {
  local dir=$1 root user bin
  if [[ ! -f "$dir/pg.root" ]]; then
    log "nothing to stop in $dir"
    return 0
  fi
  root=$(<"$dir/pg.root")
  user=$(cat "$dir/pg.user" 2>/dev/null || true)
  bin=$(cat "$dir/pg.bin" 2>/dev/null || true)
  if [[ -n "$user" && -x "$bin/pg_ctl" && -d "$root/data" ]] &&
    as_user "$user" "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
    as_user "$user" "$bin/pg_ctl" -D "$root/data" -m immediate -w -t 30 stop >&2 ||
      die "pg_ctl stop failed; see $root/postgres.log"
  fi
  # Refuse to delete anything but a folder this script made.
  if [[ "$root" =~ ^/tmp/tanfang-pg\.[A-Za-z0-9]+$ ]]; then
    rm -rf -- "$root"
  else
    log "not removing unexpected cluster path $root"
  fi
  rm -f -- "$dir/pg.root" "$dir/pg.user" "$dir/pg.bin" "$dir/pg.url"
}

start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  STATE_DIR=$dir

  if running "$dir"; then
    log "already running"
    echo "export TANFANG_TEST_PG='$(<"$dir/pg.url")'"
    return
  fi
  # Clear a dead cluster left by an earlier run.
  [[ ! -f "$dir/pg.root" ]] || stop "$dir"

  local bin user root password port url attempt
  bin=$(pg_bin)
  user=$(run_user)
  command -v runuser >/dev/null || [[ "$user" == "$(id -un)" ]] || die "runuser not found"

  root=$(mktemp -d /tmp/tanfang-pg.XXXXXXXX)
  chown "$user" "$root"
  chmod 0700 "$root"
  # Record the cluster at once, so stop can clean up after a failure below.
  echo "$root" >"$dir/pg.root"
  echo "$user" >"$dir/pg.user"
  echo "$bin" >"$dir/pg.bin"

  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  as_user "$user" sh -c 'umask 077 && cat >"$1"' sh "$root/pwfile" <<<"$password"
  as_user "$user" "$bin/initdb" -D "$root/data" -U "$DB_USER" --pwfile="$root/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync \
    >"$root/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$root/initdb.log" 2>/dev/null)"
  rm -f "$root/pwfile"

  as_user "$user" sh -c 'cat >>"$1"' sh "$root/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$root'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_user "$user" "$bin/pg_ctl" -D "$root/data" -l "$root/postgres.log" \
      -o "-p $port" -w -t 30 start >/dev/null 2>&1; then
      break
    fi
    if ! grep -q 'could not bind\|Address already in use' "$root/postgres.log" 2>/dev/null ||
      [[ $attempt -eq 5 ]]; then
      die "postgres did not start: $(tail -n 5 "$root/postgres.log" 2>/dev/null)"
    fi
    log "port $port taken, retrying"
  done

  as_user "$user" "$bin/createdb" -h "$root" -p "$port" -U "$DB_USER" "$DB_NAME" >&2 ||
    die "createdb $DB_NAME failed"

  url="postgres://$DB_USER:$password@127.0.0.1:$port/$DB_NAME?sslmode=disable"
  echo "$url" >"$dir/pg.url"
  chmod 0600 "$dir/pg.url"
  log "PostgreSQL $PG_VERSION on 127.0.0.1:$port (data $root)"
  echo "export TANFANG_TEST_PG='$url'"
}

# on_start_exit undoes a failed start, so no half-made server is left running.
on_start_exit() {
  local rc=$?
  [[ $rc -ne 0 ]] || return 0
  [[ -z "$STATE_DIR" ]] || stop "$STATE_DIR" >/dev/null 2>&1 || true
  echo false
}

STATE_DIR=
if [[ "${1:-}" == start ]]; then
  trap on_start_exit EXIT
fi
[[ $# -eq 2 && -n "$2" ]] || usage
case "$1" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
