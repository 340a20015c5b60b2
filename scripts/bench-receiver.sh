#!/usr/bin/env bash
# scripts/bench-receiver.sh — start-up of both programs and the receiver's CPU per GiB (issue 19).
# Run as root. Uses the test bed of scripts/lib/testbed.sh (private mount namespace, loop btrfs
# for the store, ingest user, `sudo -n` forced command, private sshd on 127.0.0.1), as bench.sh.
#
#   scripts/bench-receiver.sh [LABEL=DIR ...]
#
# Each DIR holds a published btrfs-send-backup and btrfs-backup-receive (what scripts/build.sh puts
# in out/); several builds are measured in the same run, round-robin, so that they share the load.
# Default: one build "this build" made by scripts/build.sh.
#
#   BENCH_RECV_SIZE     payload of each receive-stream upload (default 2G, incompressible)
#   BENCH_RECV_REPEAT   uploads per row; the median is reported (default 3)
#   BENCH_STARTUP_RUNS  runs per start-up row; the median is reported (default 15)
#   BENCH_NO_DOC=1      print the sections only, do not write docs/benchmarks.md
#
# Start-up rows: `ssh ... hello` through the real forced command (sshd → sudo -n → receiver →
# answer) next to `ssh ...` forcing /bin/true; locally `btrfs-backup-receive --version` and
# `serve -- hello`; `btrfs-send-backup --version` and `status` (config, state, one ssh `list`).
# Receiver CPU rows: one upload of a BSF1-framed payload through the forced command (the receiver
# behind a /usr/bin/time wrapper: user+sys, peak RSS) next to `cat > file` (and with an fsync) as
# the forced command, and `sha256sum` of the payload. Wall times come from the shell's clock
# (µs), CPU from /usr/bin/time (10 ms resolution).
#
# Writes the section between the "bench-receiver.sh: begin/end" marker comments of
# docs/benchmarks.md (nothing else) and prints it.
set -Eeuo pipefail
export LC_ALL=C
SELF=$(readlink -f "$0")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)

log() { printf '[bench-receiver %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

. "$ROOT/scripts/lib/testbed.sh"
testbed_enter bench-receiver python3 /usr/bin/time numfmt sha256sum -- "$@"

SIZE=${BENCH_RECV_SIZE:-2G}
REPS=${BENCH_RECV_REPEAT:-3}
RUNS=${BENCH_STARTUP_RUNS:-15}
SIZE_B=$(numfmt --from=iec "$SIZE")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

LABELS=() DIRS=()
if [ $# -eq 0 ]; then
  log "building (scripts/build.sh)"
  "$ROOT/scripts/build.sh" >/dev/null
  set -- "this build=$ROOT/out"
fi
for arg in "$@"; do
  [[ $arg == *=* ]] || die "argument '$arg' is not LABEL=DIR"
  dir=$(readlink -f "${arg#*=}")
  [ -x "$dir/btrfs-backup-receive" ] && [ -x "$dir/btrfs-send-backup" ] || die "$dir has no btrfs-send-backup and btrfs-backup-receive"
  LABELS+=("${arg%%=*}"); DIRS+=("$dir")
done

testbed_init recv
log "BENCH_RECV_SIZE=$SIZE BENCH_RECV_REPEAT=$REPS BENCH_STARTUP_RUNS=$RUNS; load average $LOAD_START"
GiB=$((1 << 30))
testbed_mkfs backup $(( SIZE_B * 3 + GiB ))
mkdir -p "$W/backup/store" "$W/usage" "$W/bin" "$W/data" "$W/state" "$W/prod"

# ---------- payload: incompressible, first byte an OpenPGP SKESK tag (what the receiver sniffs) ----------
log "generating a $SIZE payload and its BSF1 framing"
python3 - "$W/data/payload" "$W/data/framed" "$SIZE_B" <<'PY'
import hashlib, os, struct, sys
payload, framed, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = hashlib.sha256()
with open(payload, "wb") as p, open(framed, "wb") as f:
    f.write(b"BSF1")
    left, first = total, True
    while left > 0:
        chunk = bytearray(os.urandom(min(left, 1 << 20)))
        if first:
            chunk[0] = 0xC3; first = False
        p.write(chunk); h.update(chunk)
        f.write(struct.pack(">I", len(chunk))); f.write(chunk)
        left -= len(chunk)
    f.write(struct.pack(">I", 0)); f.write(struct.pack(">Q", total)); f.write(h.digest())
PY
PAYLOAD_SHA=$(sha256sum "$W/data/payload" | cut -d' ' -f1)

# ---------- backup server: one direct key (production's forced command) and one measured key per build ----------
KEYS=(trivial sink sinksync)
for i in "${!LABELS[@]}"; do KEYS+=("hello$i" "recv$i" "client$i"); done
testbed_ingest bench-recv "$W/backup/store" "${KEYS[@]}"
echo "MAX_UPLOADS_PER_DAY=0" >> "$W/conf/receiver.conf"
: > "$W/ssh/sudoers"
for i in "${!LABELS[@]}"; do
  RECEIVER=${DIRS[$i]}/btrfs-backup-receive
  cat > "$W/bin/recv$i" <<SH
#!/bin/sh
exec /usr/bin/time -a -o $W/usage/recv.log -f '%e %U %S %M' $RECEIVER "\$@"
SH
  chmod 0755 "$W/bin/recv$i"
  for k in hello client; do
    printf 'restrict,command="sudo -n %s serve --config %s --client bench -- \\"$SSH_ORIGINAL_COMMAND\\"" %s\n' \
      "$RECEIVER" "$W/conf/receiver.conf" "$(cat "$W/ssh/$k$i.pub")" >> "$W/home/authorized_keys"
  done
  printf 'restrict,command="sudo -n %s serve --config %s --client bench -- \\"$SSH_ORIGINAL_COMMAND\\"" %s\n' \
    "$W/bin/recv$i" "$W/conf/receiver.conf" "$(cat "$W/ssh/recv$i.pub")" >> "$W/home/authorized_keys"
  printf '%s ALL=(root) NOPASSWD: %s serve *\n%s ALL=(root) NOPASSWD: %s serve *\n' "$USER_NAME" "$RECEIVER" "$USER_NAME" "$W/bin/recv$i" >> "$W/ssh/sudoers"
done
chmod 0644 "$W/home/authorized_keys"
visudo -cqf "$W/ssh/sudoers"
install -m 0440 "$W/ssh/sudoers" "$TESTBED_SUDOERS"
install -d -m 0755 -o "$USER_NAME" "$W/backup/sink" "$W/usage/sink"
install -m 0644 -o "$USER_NAME" /dev/null "$W/usage/sink/sink.log"
cat > "$W/bin/sink" <<SH
#!/bin/sh
exec /usr/bin/time -a -o $W/usage/sink/sink.log -f '%e %U %S %M' sh -c 'cat > $W/backup/sink/out'
SH
cat > "$W/bin/sinksync" <<SH
#!/bin/sh
exec /usr/bin/time -a -o $W/usage/sink/sink.log -f '%e %U %S %M' sh -c 'cat > $W/backup/sink/out && sync $W/backup/sink/out'
SH
chmod 0755 "$W/bin/sink" "$W/bin/sinksync"
testbed_forced_key trivial /bin/true
testbed_forced_key sink "$W/bin/sink"
testbed_forced_key sinksync "$W/bin/sinksync"
testbed_sshd 22500

SSH=(ssh -o BatchMode=yes -o ClearAllForwardings=yes -o RequestTTY=no -o ServerAliveInterval=5 -o ServerAliveCountMax=3
     -p "$PORT" -o IdentitiesOnly=yes -o HostKeyAlias=bench-recv -o StrictHostKeyChecking=yes
     -o UserKnownHostsFile="$W/ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null)
for i in "${!LABELS[@]}"; do
  cat > "$W/conf/prod$i.conf" <<CONF
SOURCE_TOP=$W/prod
SOURCE_SUBVOL=@src
SNAPSHOT_DIR=$W/prod/@backup-snapshots
SNAPSHOT_PREFIX=data
STATE_FILE=$W/state/data
BACKUP_SSH_TARGET=$USER_NAME@127.0.0.1
BACKUP_SSH_PORT=$PORT
BACKUP_SSH_IDENTITY_FILE=$W/ssh/client$i
BACKUP_SET=bench/data
PASSPHRASE_FILE=$W/conf/passphrase
BACKUP_MODE=encrypted-stream
SSH_OPTIONS=(HostKeyAlias=bench-recv StrictHostKeyChecking=yes UserKnownHostsFile=$W/ssh/known_hosts GlobalKnownHostsFile=/dev/null)
CONF
  chmod 0600 "$W/conf/prod$i.conf"
done

# ---------- start-up ----------
# wall_ms CMD...: runs CMD (output discarded, must succeed); prints its wall time in ms.
wall_ms() {
  local t0=${EPOCHREALTIME/./} t1
  "$@" >/dev/null 2>&1 || die "failed: $*"
  t1=${EPOCHREALTIME/./}
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f\n", (b-a)/1000}'
}
# cpu_ms CMD...: user+sys of CMD in ms (/usr/bin/time).
cpu_ms() {
  /usr/bin/time -o "$W/usage/one" -f '%U %S' "$@" >/dev/null 2>&1 || die "failed: $*"
  awk '{printf "%.0f\n", ($1+$2)*1000}' "$W/usage/one"
}
median() { sort -n | awk '{v[NR]=$1} END{ if (NR%2) printf "%.0f", v[(NR+1)/2]; else printf "%.0f", (v[NR/2]+v[NR/2+1])/2 }'; }

declare -A S
rows=(ssh_true)
for i in "${!LABELS[@]}"; do rows+=("ssh_hello$i" "recv_version$i" "recv_hello$i" "prod_version$i" "prod_status$i" "cpu_recv_hello$i" "cpu_prod_version$i"); done
for r in "${rows[@]}"; do : > "$W/usage/startup-$r"; done
HELLO_OUT=$("${SSH[@]}" -i "$W/ssh/hello0" "$USER_NAME@127.0.0.1" -- hello 2>/dev/null) || die "ssh hello failed"
# `status` is a row only where it succeeds here (it needs no snapshot, only the config and a `list`).
STATUS_OK=()
for i in "${!LABELS[@]}"; do
  if "${DIRS[$i]}/btrfs-send-backup" status --config "$W/conf/prod$i.conf" >/dev/null 2>"$W/usage/status.err"; then
    STATUS_OK[$i]=1
  else
    STATUS_OK[$i]=0; log "status of ${LABELS[$i]} failed (row left out): $(tail -n 1 "$W/usage/status.err")"
  fi
done
log "start-up: $RUNS rounds, round-robin over ${#LABELS[@]} build(s)"
for _ in $(seq "$RUNS"); do
  wall_ms "${SSH[@]}" -i "$W/ssh/trivial" "$USER_NAME@127.0.0.1" -- true >> "$W/usage/startup-ssh_true"
  for i in "${!LABELS[@]}"; do
    d=${DIRS[$i]}
    wall_ms "${SSH[@]}" -i "$W/ssh/hello$i" "$USER_NAME@127.0.0.1" -- hello >> "$W/usage/startup-ssh_hello$i"
    wall_ms "$d/btrfs-backup-receive" --version >> "$W/usage/startup-recv_version$i"
    wall_ms "$d/btrfs-backup-receive" serve --config "$W/conf/receiver.conf" --client bench -- hello >> "$W/usage/startup-recv_hello$i"
    wall_ms "$d/btrfs-send-backup" --version >> "$W/usage/startup-prod_version$i"
    [ "${STATUS_OK[$i]}" = 1 ] && wall_ms "$d/btrfs-send-backup" status --config "$W/conf/prod$i.conf" >> "$W/usage/startup-prod_status$i"
    cpu_ms "$d/btrfs-backup-receive" serve --config "$W/conf/receiver.conf" --client bench -- hello >> "$W/usage/startup-cpu_recv_hello$i"
    cpu_ms "$d/btrfs-send-backup" --version >> "$W/usage/startup-cpu_prod_version$i"
  done
done
for r in "${rows[@]}"; do S[$r]=$(if [ -s "$W/usage/startup-$r" ]; then median < "$W/usage/startup-$r"; else echo —; fi); done

# ---------- receiver CPU ----------
# Snapshot names must be unique and within MAX_CLOCK_SKEW: count back one minute per upload.
SNAP_N=0
next_snapshot() { SNAP_N=$((SNAP_N + 1)); date -u -d "-$SNAP_N min" +data-%Y%m%dT%H%M%SZ; }
clear_store() { rm -rf "$W/backup/store/bench/recv" "$W/backup/sink/out"; sync -f "$W/backup"; }
# usage_row KEY LOG: appends "wall user+sys rss_kib" of the one invocation in LOG to $W/usage/rows-KEY.
usage_row() { awk '{printf "%s %.2f %d\n", $1, $2+$3, $4}' "$2" >> "$W/usage/rows-$1"; }
log "receiver CPU: $REPS upload(s) of $SIZE per row"
for _ in $(seq "$REPS"); do
  for i in "${!LABELS[@]}"; do
    clear_store; : > "$W/usage/recv.log"
    snap=$(next_snapshot)
    answer=$("${SSH[@]}" -i "$W/ssh/recv$i" "$USER_NAME@127.0.0.1" -- "receive-stream bench/recv $snap full" < "$W/data/framed") \
      || die "upload through ${LABELS[$i]} failed"
    [ "$answer" = "OK $PAYLOAD_SHA $SIZE_B" ] || die "upload through ${LABELS[$i]} answered '$answer'"
    usage_row "recv$i" "$W/usage/recv.log"
    # The same receiver without ssh: stdin is the framed file (large reads), root, no sudo.
    clear_store; : > "$W/usage/recv.log"
    "$W/bin/recv$i" serve --config "$W/conf/receiver.conf" --client bench -- "receive-stream bench/recv $(next_snapshot) full" < "$W/data/framed" > /dev/null \
      || die "local upload through ${LABELS[$i]} failed"
    usage_row "local$i" "$W/usage/recv.log"
  done
  for k in sink sinksync; do
    clear_store; : > "$W/usage/sink/sink.log"
    "${SSH[@]}" -i "$W/ssh/$k" "$USER_NAME@127.0.0.1" -- x < "$W/data/payload" || die "$k failed"
    usage_row "$k" "$W/usage/sink/sink.log"
  done
  /usr/bin/time -o "$W/usage/one" -f '%e %U %S %M' sha256sum "$W/data/payload" >/dev/null
  usage_row sha256sum "$W/usage/one"
done
clear_store
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# med_col KEY COLUMN: the median of COLUMN (1 wall, 2 cpu, 3 rss KiB) over the rows of KEY.
med_col() { awk -v c="$2" '{print $c}' "$W/usage/rows-$1" | sort -n | awk '{v[NR]=$1} END{ if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
GIB=$(awk -v b="$SIZE_B" 'BEGIN{print b/1073741824}')
per_gib() { awk -v c="$(med_col "$1" 2)" -v g="$GIB" 'BEGIN{printf "%.2f", c/g}'; }
CAT_PER_GIB=$(per_gib sink)
cpu_row() {  # KEY LABEL
  printf '| %s | %.1f | %.2f | %s | %.1f | %s |\n' "$2" "$(med_col "$1" 1)" "$(med_col "$1" 2)" "$(per_gib "$1")" \
    "$(awk -v k="$(med_col "$1" 3)" 'BEGIN{print k/1024}')" "$(awk -v a="$(per_gib "$1")" -v b="$CAT_PER_GIB" 'BEGIN{printf "%.2f×", a/b}')"
}

out=$W/section.md
{
  echo "<!-- bench-receiver.sh: begin (this section is rewritten by scripts/bench-receiver.sh; edit the script, not the text) -->"
  echo
  echo "Run by \`scripts/bench-receiver.sh $(printf '"%s" ' "$@" | sed 's/ $//')\` on $(date -u +%F) (2 cores, $(uname -r), load average at the start $LOAD_START, at the end $LOAD_END; **the machine is shared with other jobs**, so wall times are noisy and CPU seconds are the steadier figure)."
  echo "Test bed as in scripts/bench.sh: loop-mounted btrfs for the store, private sshd on 127.0.0.1, the ingest user's forced command \`sudo -n btrfs-backup-receive serve --config ... --client bench -- \"\$SSH_ORIGINAL_COMMAND\"\`."
  echo "Builds (as scripts/build.sh publishes them: since the NativeAOT change a native receiver and a self-contained single-file producer):"
  echo
  for i in "${!LABELS[@]}"; do
    echo "- ${LABELS[$i]}: \`$("${DIRS[$i]}/btrfs-backup-receive" --version)\`; receiver $(stat -c %s "${DIRS[$i]}/btrfs-backup-receive") bytes, producer $(stat -c %s "${DIRS[$i]}/btrfs-send-backup") bytes"
  done
  echo
  echo "### Start-up"
  echo
  echo "Median of $RUNS runs, builds measured round-robin in the same run; wall ms from the shell's clock, CPU ms (user+sys) from \`/usr/bin/time\` (10 ms resolution)."
  echo
  printf '| what |'; for l in "${LABELS[@]}"; do printf ' %s |' "$l"; done; echo
  printf '|---|'; for _ in "${LABELS[@]}"; do printf -- '---:|'; done; echo
  row() { local key=$1 what=$2 i; printf '| %s |' "$what"; for i in "${!LABELS[@]}"; do printf ' %s |' "${S[$key$i]}"; done; echo; }
  printf '| ssh, forced `/bin/true` (no receiver), wall ms |'; for _ in "${LABELS[@]}"; do printf ' %s |' "${S[ssh_true]}"; done; echo
  row ssh_hello "ssh \`hello\` through the forced command (sshd → sudo → receiver → answer), wall ms"
  printf '| difference: sudo + receiver start-up + answer, ms |'; for i in "${!LABELS[@]}"; do printf ' %s |' "$(( ${S[ssh_hello$i]} - ${S[ssh_true]} ))"; done; echo
  row recv_version "\`btrfs-backup-receive --version\` locally, wall ms"
  row recv_hello "\`btrfs-backup-receive serve -- hello\` locally (config loaded, answer written), wall ms"
  row cpu_recv_hello "the same, CPU ms"
  row prod_version "\`btrfs-send-backup --version\`, wall ms"
  row cpu_prod_version "the same, CPU ms"
  row prod_status "\`btrfs-send-backup status\` (config, state, one ssh \`list\` through the forced command), wall ms"
  echo
  echo "hello answered: \`$HELLO_OUT\`"
  echo
  echo "### Receiver CPU per GiB"
  echo
  echo "One \`receive-stream\` upload of a $SIZE incompressible payload (first byte an OpenPGP SKESK tag, BSF1 frames of 1 MiB), median of $REPS; CPU = user+sys of the forced command's process from a \`/usr/bin/time\` wrapper between sudo and the program (sshd and the ssh client are not counted); peak RSS = ru_maxrss. The receiver hashes (SHA-256), checks the framing and the first byte, writes into the store on btrfs and fsyncs before it answers \`OK\`; \`cat > file\` only copies (its writeback happens later, in kernel threads that nobody is charged for), so \`cat > file && sync file\` is also shown. ratio = CPU per GiB / \`cat > file\`'s."
  echo
  echo "| what | wall s | CPU s | CPU s per GiB | peak RSS MiB | ratio |"
  echo "|---|---:|---:|---:|---:|---:|"
  for i in "${!LABELS[@]}"; do
    cpu_row "recv$i" "${LABELS[$i]}: receiver, through ssh"
    cpu_row "local$i" "${LABELS[$i]}: receiver, stdin from the framed file (no ssh)"
  done
  cpu_row sink "\`cat > file\`, through ssh"
  cpu_row sinksync "\`cat > file && sync file\`, through ssh"
  cpu_row sha256sum "\`sha256sum\` of the payload (local)"
  echo
  echo "<!-- bench-receiver.sh: end -->"
} > "$out"
cat "$out"
[ -n "${BENCH_NO_DOC:-}" ] && exit 0
doc=$ROOT/docs/benchmarks.md
if grep -q '^<!-- bench-receiver.sh: begin' "$doc"; then
  awk -v section="$out" '
    BEGIN { while ((getline line < section) > 0) text = text line "\n" }
    /^<!-- bench-receiver.sh: begin/ { skipping = 1; printf "%s", text; next }
    skipping && /^<!-- bench-receiver.sh: end/ { skipping = 0; next }
    !skipping { print }
  ' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
else
  printf '\n## Start-up and receiver CPU\n\n' >> "$doc"
  cat "$out" >> "$doc"
fi
log "wrote docs/benchmarks.md (section between the bench-receiver.sh markers)"
