#!/usr/bin/env bash
# scripts/bench-store.sh — store scale and receiver start-up (issue 11), repeatable.
# Generates one backup set with N synthetic manifests (one an hour, a full every 50, the rest
# incrementals on the previous one) and N tiny stream files in a temp BACKUP_ROOT, then times
# `list`, `prune --dry-run` and `check` (no --verify-data) over it, best of 3 by wall time, and the
# receiver's start-up (`--version`, `serve -- hello`), best of 10. Nothing outside the temp dir is
# touched; it is removed on exit.
#
#   scripts/bench-store.sh [N]          N defaults to 20000
#   RECEIVER=path/to/btrfs-backup-receive scripts/bench-store.sh
#                                       default: out/btrfs-backup-receive if present (scripts/build.sh),
#                                       else a Release build of src/BtrfsSend.Receiver
#   BENCH_NO_DOC=1                      print the section only, do not write docs/benchmarks.md
#
# Writes the "Store scale and receiver start-up" section of docs/benchmarks.md (its heading through
# the "bench-store.sh: end" marker comment; nothing else) and prints it.
set -Eeuo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
N=${1:-20000}
REPS=3
STARTUP_REPS=10
log() { printf '[bench-store %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive whole number, got '$N'"
command -v python3 >/dev/null || die "python3 is needed to generate the manifests"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"

if [ -z "${RECEIVER:-}" ]; then
  if [ -x "$ROOT/out/btrfs-backup-receive" ]; then
    RECEIVER=$ROOT/out/btrfs-backup-receive
  else
    log "building src/BtrfsSend.Receiver (Release)"
    dotnet build -c Release -v q -nologo "$ROOT/src/BtrfsSend.Receiver" >/dev/null
    RECEIVER=$ROOT/src/BtrfsSend.Receiver/bin/Release/net10.0/btrfs-backup-receive
  fi
fi
[ -x "$RECEIVER" ] || die "no receiver at $RECEIVER"
RECEIVER=$(readlink -f "$RECEIVER")
KIND=$(if readelf -S -W "$RECEIVER" 2>/dev/null | grep -q __managedcode; then echo native; elif [ -f "${RECEIVER}.dll" ]; then echo framework-dependent; else echo self-contained; fi)

W=$(mktemp -d /tmp/btrfs-send-bench-store.XXXXXX)
trap 'rm -rf "$W"' EXIT
SET_DIR=$W/root/bench/scale
mkdir -p "$SET_DIR"
cat > "$W/receiver.conf" <<CONF
BACKUP_ROOT=$W/root
KEEP_DAILY=7
KEEP_WEEKLY=4
KEEP_MONTHLY=12
MIN_FREE_SPACE=0
CONF

log "generating $N manifests and stream files in $SET_DIR"
t0=${EPOCHREALTIME/./}
python3 - "$SET_DIR" "$N" <<'PY'
import datetime, hashlib, os, sys
d, n = sys.argv[1], int(sys.argv[2])
data = b"not a real stream\n"; sha = hashlib.sha256(data).hexdigest()
now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
prev = None
for i in range(n):
    t = now - datetime.timedelta(hours=(n - i))
    snap = "scale-" + t.strftime("%Y%m%dT%H%M%SZ")
    full = i % 50 == 0
    stream = snap + (".full" if full else ".incr") + ".btrfs.gpg"
    lines = ["format=btrfs-send-manifest/1", "set=bench/scale", "snapshot=" + snap, "kind=" + ("full" if full else "incremental")]
    if not full: lines.append("parent=" + prev)
    lines += ["stream_file=" + stream, "stream_bytes=%d" % len(data), "stream_sha256=" + sha, "encryption=openpgp-symmetric",
              "compression=none", "send_proto=2", "received_at=" + (t + datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "client=bench", "producer_version=synthetic"]
    for name, body in ((stream, data), (snap + ".manifest", ("\n".join(lines) + "\n").encode())):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        os.write(fd, body); os.close(fd)
    prev = snap
PY
log "generated in $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"

declare -A B_WALL B_CPU B_RSS
measure() {  # KEY CMD... (stdout to $W/out.KEY): best of $REPS by wall
  local key=$1; shift
  local i
  for i in $(seq "$REPS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$@" > "$W/out.$key.try" 2> "$W/err.$key.try" || true
    read -r wall usr sys rss < <(tail -n 1 "$W/time")
    log "  $key #$i: ${wall}s wall, cpu ${usr}+${sys}s, rss $((rss / 1024)) MiB"
    if [ -z "${B_WALL[$key]:-}" ] || awk -v a="$wall" -v b="${B_WALL[$key]}" 'BEGIN{exit !(a<b)}'; then
      B_WALL[$key]=$wall; B_CPU[$key]=$(awk -v u="$usr" -v s="$sys" 'BEGIN{printf "%.2f", u+s}'); B_RSS[$key]=$rss
      mv "$W/out.$key.try" "$W/out.$key"; mv "$W/err.$key.try" "$W/err.$key"
    fi
  done
}
RC=(--config "$W/receiver.conf")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "list / prune --dry-run / check over $N manifests, best of $REPS"
# A cold page cache is not what cron or monitoring sees twice in a row; one untimed warm-up read.
cat "$SET_DIR"/*.manifest > /dev/null
measure list "$RECEIVER" list "${RC[@]}" --set bench/scale
measure prune "$RECEIVER" prune "${RC[@]}" --set bench/scale --dry-run
measure check "$RECEIVER" check "${RC[@]}" --set bench/scale --max-age 2h
LIST_LINES=$(wc -l < "$W/out.list")
PRUNE_DELETE=$(grep -c '^delete ' "$W/out.prune" || true)
PRUNE_KEEP=$(grep -c '^keep ' "$W/out.prune" || true)
CHECK_LINE=$(head -n 1 "$W/out.check" | cut -c1-160)
[ "$LIST_LINES" = "$N" ] || die "list printed $LIST_LINES lines for $N manifests: $(head -c 300 "$W/err.list")"
grep -q '^BTRFS-BACKUP OK' "$W/out.check" || die "check did not say OK: $CHECK_LINE"

log "start-up, best of $STARTUP_REPS by wall (bash EPOCHREALTIME, µs resolution)"
best_ms() {  # CMD...: "best-wall-ms best-cpu-ms" of $STARTUP_REPS runs (stdin /dev/null, output kept in $W/startup.*)
  local best= bestcpu= i t0 us cpu
  for i in $(seq "$STARTUP_REPS"); do
    t0=${EPOCHREALTIME/./}
    /usr/bin/time -f '%U %S' -o "$W/startup.time" "$@" < /dev/null > "$W/startup.out" 2> "$W/startup.err" || true
    us=$(( ${EPOCHREALTIME/./} - t0 ))
    cpu=$(awk '{printf "%d", ($1 + $2) * 1000}' "$W/startup.time")
    if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
    if [ -z "$bestcpu" ] || [ "$cpu" -lt "$bestcpu" ]; then bestcpu=$cpu; fi
  done
  awk -v u="$best" -v c="$bestcpu" 'BEGIN{printf "%.0f | %d", u/1000, c}'
}
VERSION_MS=$(best_ms "$RECEIVER" --version)
HELLO_MS=$(best_ms "$RECEIVER" serve "${RC[@]}" --client bench -- hello)
HELLO_OUT=$(cut -c1-120 "$W/startup.out")
case "$HELLO_OUT" in btrfs-send-receiver*) ;; *) die "hello answered '$HELLO_OUT': $(head -c 300 "$W/startup.err")" ;; esac
BADCMD_MS=$(best_ms "$RECEIVER" serve "${RC[@]}" --client bench -- "frobnicate")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

secmet() { awk -v a="$1" 'BEGIN{ if (a < 2) print "met"; else print "**MISSED**" }'; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
out=$W/section.md
{
  # Heading first: scripts/bench.sh replaces its own sections up to the next "## " heading, so a
  # marker above this heading would be swallowed by a rewrite of the section before it.
  echo "## Store scale and receiver start-up"
  echo "<!-- bench-store.sh: begin (this section is rewritten by scripts/bench-store.sh; edit the script, not the text) -->"
  echo
  echo "Run by \`scripts/bench-store.sh $N\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -r), load average at the start $LOAD_START, at the end $LOAD_END;" \
       "**the machine is shared with other jobs**, so wall times are noisy and CPU seconds are the steadier figure)."
  echo "Receiver: \`$(basename "$RECEIVER")\`, $KIND build ($(sed -n 's/^btrfs-send-receiver \([^ ]*\).*/\1/p' <<< "$HELLO_OUT"))."
  echo
  echo "$N synthetic manifests (one an hour, a full every 50, the rest incrementals on the previous one) with $N 18-byte stream files, in one set," \
       "page cache warm; best of $REPS by wall time of the whole process (start-up included); CPU s = user+sys, peak RSS = ru_maxrss, from \`/usr/bin/time\`."
  echo
  echo "| command | wall s | CPU s | peak RSS MiB | target < 2 s |"
  echo "|---|---:|---:|---:|---|"
  echo "| \`list --set\` ($LIST_LINES lines) | ${B_WALL[list]} | ${B_CPU[list]} | $(mib "${B_RSS[list]}") | $(secmet "${B_WALL[list]}") |"
  echo "| \`prune --dry-run\` (KEEP_DAILY=7 KEEP_WEEKLY=4 KEEP_MONTHLY=12: $PRUNE_KEEP keep, $PRUNE_DELETE delete lines) | ${B_WALL[prune]} | ${B_CPU[prune]} | $(mib "${B_RSS[prune]}") | $(secmet "${B_WALL[prune]}") |"
  echo "| \`check\` (no --verify-data) | ${B_WALL[check]} | ${B_CPU[check]} | $(mib "${B_RSS[check]}") | $(secmet "${B_WALL[check]}") |"
  echo
  echo "check said: \`$CHECK_LINE\`"
  echo
  echo "Receiver start-up, best of $STARTUP_REPS by wall and by CPU (user+sys from \`/usr/bin/time\`, 10 ms resolution); exec → exit, run locally without ssh/sudo. The time from exec to the first byte read of a \`receive-stream\` is within the \`hello\` figure, which also loads the config and answers:"
  echo
  echo "| what | best wall ms | best CPU ms |"
  echo "|---|---:|---:|"
  echo "| \`btrfs-backup-receive --version\` | $VERSION_MS |"
  echo "| \`serve --client bench -- hello\` (config loaded, answer written) | $HELLO_MS |"
  echo "| \`serve --client bench -- frobnicate\` (refused: ERR line) | $BADCMD_MS |"
  echo
  echo "hello answered: \`$HELLO_OUT\`"
  echo
  echo "### Where the time goes (profiled by hand with \`perf\` on 2026-11-23; not rewritten by the script)"
  echo
  echo "- Before issue 11's work the same three commands took 2.5 / 4.4 / 3.2 CPU-s (list / prune --dry-run / check): every manifest through a FileStream (open, fstat, flock, read, close),"
  echo "  \`Split\`-based parsing (~6 KiB of garbage per manifest), a quadratic lookup per deleted stream in prune (\`First\` over 20,000 streams for each of 19,581 deletions),"
  echo "  chain walks repeated for every snapshot in check, and one write(2) per \`list\` line. Now: one directory enumeration (which also gives each stream file's size, so"
  echo "  \`check\` reports a resized stream file without reading it), one open/read/close per manifest on up to 4 threads, span-based line parsing, memoised linear chain"
  echo "  walks, dictionary lookups in prune, buffered output; TieredPGO off and ReadyToRun for the receiver."
  echo "- What remains is about 55–65 µs CPU per manifest on this paravirtualised VM, where every syscall and page fault is expensive: kernel time (open/read/close"
  echo "  of 20,000 manifests, a stat per stream file, page faults) is ~30% of the samples, the GC's zeroing of fresh memory ~25% (validated manifests, names and paths"
  echo "  kept for 20,000 streams), start-up ~0.15 CPU-s, parsing and validation the rest."
  echo "- Wall vs CPU: the machine is shared (load average above), so a process gets a fraction of a core and wall time is a multiple of its CPU time;"
  echo "  the CPU column is what the commands cost, and on an idle 2-core machine wall ≈ CPU or less (manifests are read in parallel). Where the table says MISSED,"
  echo "  that is the reason; the bottleneck left in the code is the per-file syscall cost, which only a store format with fewer files (an index beside the"
  echo "  manifests) would remove."
  echo "<!-- bench-store.sh: end -->"
} > "$out"
cat "$out"
if [ -z "${BENCH_NO_DOC:-}" ]; then
  doc=$ROOT/docs/benchmarks.md
  [ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
  awk -v section="$out" '
    BEGIN { while ((getline line < section) > 0) text = text line "\n" }
    /^## Store scale and receiver start-up$/ || /^<!-- bench-store.sh: begin/ { if (!skipping) { skipping = 1; if (!done) { printf "%s", text; done = 1 } }; next }
    skipping && /^<!-- bench-store.sh: end/ { skipping = 0; next }
    !skipping { print }
    END { if (!done) printf "\n%s", text }
  ' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
  log "wrote the store-scale section of $doc"
fi
