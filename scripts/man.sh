#!/usr/bin/env bash
# scripts/man.sh [--check] — generate the man pages docs/man/*.8 and docs/man/*.5 from docs/*.8.md
# and docs/*.5.md with go-md2man (Debian package go-md2man). The generated pages are committed, so
# installing them needs no tool. A line "<!-- include: PAGE.md SECTION -->" in a page is replaced
# by the body of "# SECTION" of docs/PAGE.md (the .conf(5) pages take their keys from the
# CONFIGURATION section of the program's (8) page, so the two never disagree).
#   --check   regenerate into a temp dir and fail if the committed pages differ (nothing written)
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  *) echo "man.sh: unknown argument '$1' (allowed: --check)" >&2; exit 2 ;;
esac
command -v go-md2man >/dev/null || { echo "man.sh: go-md2man not found: apt-get install go-md2man" >&2; exit 1; }

out=docs/man
temp=$(mktemp -d)
trap 'rm -rf "$temp"' EXIT
[ "$check" = 0 ] || out=$temp/man
mkdir -p "$out"
rc=0
expanded=$temp/page.md
expand() {
  local line file section
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ ^\<!--\ include:\ ([A-Za-z0-9.-]+\.md)\ ([A-Z][A-Z\ ]*)\ --\>$ ]]; then
      file=docs/${BASH_REMATCH[1]} section=${BASH_REMATCH[2]}
      [ -f "$file" ] || { echo "man.sh: $md includes $file, which does not exist" >&2; exit 1; }
      # The section's body: after its "# SECTION" line, up to the next top-level heading.
      awk -v h="# $section" '$0 == h { on = 1; getline; if ($0 != "") print; next } /^# / { on = 0 } on' "$file"
    else
      printf '%s\n' "$line"
    fi
  done < "$1"
}
for md in docs/*.8.md docs/*.5.md; do
  page=$(basename "$md" .md)
  expand "$md" > "$expanded"
  go-md2man -in "$expanded" -out "$out/$page"
  if [ "$check" = 1 ]; then
    cmp -s "$out/$page" "docs/man/$page" || { echo "man.sh: docs/man/$page is out of date with $md: run scripts/man.sh" >&2; rc=1; }
  else
    echo "wrote $out/$page"
  fi
done
exit "$rc"
