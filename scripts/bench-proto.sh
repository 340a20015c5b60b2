#!/usr/bin/env bash
# Send protocol 1 vs protocol 2 with compressed data, on a compress=zstd source with mixed data
# (compressible logs, random data, a sparse file, reflinked copies), full and incremental (the
# incremental appends, rewrites and punches holes). Measures btrfs send's stream bytes and wall
# time (best of 3, stream to wc -c), then restores the v2 stream into a filesystem mounted
# without compression and reports compsize there. Writes the "Send protocol 2" section of
# docs/benchmarks.md. Needs root, btrfs-progs, compsize. Usage: scripts/bench-proto.sh [MiB of logs]
set -euo pipefail
cd "$(dirname "$0")/.."
LOGS=${1:-256}
W=$(mktemp -d /tmp/bench-proto.XXXXXX)
cleanup() { umount "$W/src" 2>/dev/null || true; umount "$W/dst" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
truncate -s 3G "$W/src.img"; truncate -s 3G "$W/dst.img"
mkfs.btrfs -q "$W/src.img" >/dev/null; mkfs.btrfs -q "$W/dst.img" >/dev/null
mkdir "$W/src" "$W/dst"
mount -o loop,compress=zstd "$W/src.img" "$W/src"
mount -o loop "$W/dst.img" "$W/dst"
S=$W/src/vol
btrfs subvolume create "$S" >/dev/null
mkdir -p "$S/var/log" "$S/var/lib/db"
for i in $(seq 1 8); do
  seq 1 $((LOGS * 1024 * 1024 / 8 / 75)) | awk -v i="$i" '{ printf "2026-12-06T12:%02d:%02d host app[%d]: request %d handled in %d ms status=200 path=/api/v1/items\n", ($1 / 60) % 60, $1 % 60, i, $1, $1 % 977 }' > "$S/var/log/app$i.log"
done
head -c 128M /dev/urandom > "$S/var/lib/db/random.bin"
truncate -s 512M "$S/var/lib/db/sparse.img"
head -c 16M /dev/urandom | dd of="$S/var/lib/db/sparse.img" bs=1M seek=100 conv=notrunc status=none
cp --reflink=always "$S/var/log/app1.log" "$S/var/log/app1.log.reflink"
sync
btrfs subvolume snapshot -r "$S" "$W/src/s1" >/dev/null
( yes 'appended line of log text for the incremental' || true ) | head -c 32M >> "$S/var/log/app2.log"
head -c 8M /dev/urandom | dd of="$S/var/lib/db/random.bin" bs=1M seek=32 conv=notrunc status=none
fallocate --punch-hole --offset $((4 << 20)) --length $((16 << 20)) "$S/var/log/app3.log"
sync
btrfs subvolume snapshot -r "$S" "$W/src/s2" >/dev/null

measure() {  # label, send args... -> "label bytes seconds" (best of 3)
  local label=$1; shift
  local best="" bytes=0
  for _ in 1 2 3; do
    local t0 t1 n
    t0=$(date +%s.%N)
    n=$(btrfs send -q "$@" | wc -c)
    t1=$(date +%s.%N)
    local s; s=$(echo "$t1 - $t0" | bc)
    bytes=$n
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc)" = 1 ]; then best=$s; fi
  done
  printf '%-34s %14d bytes %8.2f s\n' "$label" "$bytes" "$best"
}

out=$(mktemp)
{
  echo "## Send protocol 2"
  echo
  echo "Run by \`scripts/bench-proto.sh $LOGS\` on $(date -u +%Y-%m-%d) ($(nproc) cores, kernel $(uname -r), $(btrfs --version), load average $(cut -d' ' -f1-3 /proc/loadavg)). Source mounted compress=zstd: ${LOGS} MiB of logs in 8 files, 128 MiB random, a 512 MiB sparse file with 16 MiB data, a reflinked log. The incremental appends 32 MiB of log text, rewrites 8 MiB of random data and punches a 16 MiB hole in a log. btrfs send into \`wc -c\`, best of 3; this is the stream the producer encrypts and sends."
  echo
  echo '```text'
  echo "on-disk source (compsize):"
  compsize "$W/src/s1" | sed 's/^/  /'
  measure "full, protocol 1" "$W/src/s1"
  measure "full, protocol 2 + compressed data" --proto 2 --compressed-data "$W/src/s1"
  measure "incremental, protocol 1" -p "$W/src/s1" "$W/src/s2"
  measure "incremental, protocol 2 + compressed" --proto 2 --compressed-data -p "$W/src/s1" "$W/src/s2"
  btrfs send -q --proto 2 --compressed-data "$W/src/s1" | btrfs receive -q --chroot "$W/dst"
  btrfs send -q --proto 2 --compressed-data -p "$W/src/s1" "$W/src/s2" | btrfs receive -q --chroot "$W/dst"
  echo "received with protocol 2 into a filesystem mounted WITHOUT compression (compsize):"
  compsize "$W/dst/s2" | sed 's/^/  /'
  echo '```'
} > "$out"
cat "$out"
doc=docs/benchmarks.md
[ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
awk -v section="$out" '
  BEGIN { while ((getline line < section) > 0) text = text line "\n" }
  /^## Send protocol 2/ { skipping = 1; if (!done) { printf "%s\n", text; done = 1 }; next }
  skipping && /^## / { skipping = 0 }
  !skipping { print }
  END { if (!done) printf "\n%s", text }
' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
rm -f "$out"
