#!/usr/bin/env bash
# Fetch the pinned front-end libraries from the npm registry into
# internal/web/static/vendor/ and record their SHA-256 sums.
#
#   scripts/vendor-web.sh           fetch, verify, extract, write SHA256SUMS
#   scripts/vendor-web.sh --check   verify the committed files only (no network)
#
# Fetching is done by hand when upgrading; the results are committed so that
# building needs only Go (see docs/adr/0002-frontend-libraries.md).
# To upgrade: change a version below, set its integrity to the value of
# `npm view PACKAGE@VERSION dist.integrity`, run this script, review, commit.
set -euo pipefail

# package  version  sha512 integrity of the tarball  member in tarball -> output name
# The licence files ride along because Apache-2.0 requires the NOTICE to travel
# with redistributed copies.
PINS=(
  "htmx.org 2.0.11 sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA== package/dist/htmx.min.js=htmx.min.js package/LICENSE=htmx.LICENSE.txt"
  "echarts 6.1.0 sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA== package/dist/echarts.min.js=echarts.min.js package/LICENSE=echarts.LICENSE.txt package/NOTICE=echarts.NOTICE.txt"
)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENDOR="$ROOT/internal/web/static/vendor"

die() {
  echo "vendor-web: $*" >&2
  exit 1
}

# expected_outputs prints every output file name the pins produce, sorted.
expected_outputs() {
  local pin f
  for pin in "${PINS[@]}"; do
    read -r -a f <<<"$pin"
    printf '%s\n' "${f[@]:3}" | sed 's/^.*=//'
  done | LC_ALL=C sort
}

# words joins lines with spaces for one-line messages.
words() { tr '\n' ' ' <<<"$1" | sed 's/ $//'; }

check() {
  [[ -f "$VENDOR/SHA256SUMS" ]] || die "missing $VENDOR/SHA256SUMS"
  # The listed names must be exactly what the pins produce, and the folder must
  # hold nothing else, so a stray or dropped file cannot slip past.
  local listed present want
  listed=$(awk '{sub(/^\*/, "", $2); print $2}' "$VENDOR/SHA256SUMS" | LC_ALL=C sort)
  want=$(expected_outputs)
  present=$(cd "$VENDOR" && find . -mindepth 1 ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort)
  [[ "$listed" == "$want" ]] ||
    die "SHA256SUMS lists [$(words "$listed")], the pins in this script produce [$(words "$want")]"
  [[ "$present" == "$want" ]] ||
    die "vendor folder holds [$(words "$present")], expected [$(words "$want")]"
  (cd "$VENDOR" && sha256sum --check --strict --quiet SHA256SUMS) ||
    die "vendored files do not match SHA256SUMS"
  echo "vendor-web: $(echo "$want" | wc -l) vendored files match SHA256SUMS" >&2
}

fetch() {
  command -v npm >/dev/null || die "npm not found"
  command -v openssl >/dev/null || die "openssl not found"
  # Global, not local: the EXIT trap runs after this function has returned.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/out"

  local pin f name version integrity tgz got member out m
  for pin in "${PINS[@]}"; do
    read -r -a f <<<"$pin"
    name=${f[0]} version=${f[1]} integrity=${f[2]}
    echo "vendor-web: fetching $name@$version" >&2
    # Run in the scratch folder so no project .npmrc or package.json interferes.
    tgz=$(cd "$work" && npm pack --loglevel=error --ignore-scripts --pack-destination "$work" "$name@$version") ||
      die "npm pack $name@$version failed"
    tgz="$work/$(tail -n1 <<<"$tgz")"
    [[ -f "$tgz" ]] || die "npm pack $name@$version produced no tarball"
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [[ "$got" == "$integrity" ]] ||
      die "integrity mismatch for $name@$version: pinned $integrity, got $got"
    for m in "${f[@]:3}"; do
      member=${m%%=*} out=${m#*=}
      tar -xzf "$tgz" -O "$member" >"$work/out/$out" ||
        die "$member not found in $name@$version"
      [[ -s "$work/out/$out" ]] || die "$member in $name@$version is empty"
    done
  done

  # Replace the folder only once everything verified, so a failed run leaves
  # the committed files untouched.
  local files
  files=$(cd "$work/out" && find . -type f -printf '%P\n' | LC_ALL=C sort)
  (cd "$work/out" && xargs sha256sum <<<"$files" >SHA256SUMS)
  mkdir -p "$VENDOR"
  find "$VENDOR" -mindepth 1 -delete
  cp "$work/out"/* "$VENDOR"/
  chmod 0644 "$VENDOR"/*
  check
}

case "${1:-}" in
  "") fetch ;;
  --check) check ;;
  *) die "usage: $0 [--check]" ;;
esac
