#!/usr/bin/env bash
# scripts/man.sh [--check] — generate the man pages docs/man/*.8 from docs/*.8.md with go-md2man
# (Debian package go-md2man). The generated pages are committed, so installing them needs no tool.
#   --check   regenerate into a temp dir and fail if the committed pages differ (nothing written)
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
  *) echo "man.sh: unknown argument '$1' (allowed: --check)" >&2; exit 2 ;;
esac
command -v go-md2man >/dev/null || { echo "man.sh: go-md2man not found: apt-get install go-md2man" >&2; exit 1; }

out=docs/man
if [ "$check" = 1 ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
rc=0
for md in docs/*.8.md; do
  page=$(basename "$md" .md)
  go-md2man -in "$md" -out "$out/$page"
  if [ "$check" = 1 ]; then
    cmp -s "$out/$page" "docs/man/$page" || { echo "man.sh: docs/man/$page is out of date with $md: run scripts/man.sh" >&2; rc=1; }
  else
    echo "wrote $out/$page"
  fi
done
exit "$rc"
