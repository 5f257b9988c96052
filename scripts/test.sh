#!/usr/bin/env bash
# Runs every check and test of tanfang on this machine: formatting, vet, the
# pinned front-end files, and `go test -race ./...` against both embedded
# SQLite and a throw-away PostgreSQL, including the headless-browser tests.
# Installs what is missing (PostgreSQL 15, Debian's Chromium) when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing: $*; install it (apt-get install $*) or run as root" >&2
    exit 1
  fi
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

step "tools"
go version
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROME_PATH:-}" ]; then
  echo "installing Debian's chromium for the browser tests"
  apt_install chromium fonts-noto-cjk
fi
command -v chromium >/dev/null 2>&1 && chromium --version 2>/dev/null || true

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  printf 'gofmt would change:\n%s\n' "$unformatted" >&2
  exit 1
fi

step "go vet"
go vet ./...

step "front-end files match their pins"
scripts/vendor-web.sh --check

step "throw-away PostgreSQL"
pgdir=$(mktemp -d)
trap 'scripts/pg-throwaway.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
eval "$(scripts/pg-throwaway.sh start "$pgdir")"
test -n "${TANFANG_TEST_PG:-}" || { echo "PostgreSQL did not start" >&2; exit 1; }

step "go test -race ./... (SQLite and PostgreSQL, browser tests)"
# CI=true makes missing PostgreSQL or Chromium a failure, never a skip.
CI=true go test -race -count=1 -timeout 40m ./...
