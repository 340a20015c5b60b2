#!/usr/bin/env bash
# scripts/torture.sh — N real producer runs, each interrupted at a random moment, with the
# invariants checked after every run (issue 21). Run as root. The test bed (private mount
# namespace, loop btrfs, ingest user, `sudo -n btrfs-backup-receive serve` as the sshd forced
# command, private sshd on 127.0.0.1) is scripts/lib/testbed.sh, shared with bench.sh and demo.sh.
#
#   scripts/torture.sh [--runs N] [--seed S] [--max-minutes M] [--output DIR] [--no-build] [--no-doc]
#
#   --runs N     interrupted runs (default 100)
#   --seed S     seed of the schedule (fault kind, moment, forced fulls, content changes);
#                default random, printed, so a run can be repeated; timings on a shared
#                machine still differ, so the same seed hits similar, not identical, moments
#   --max-minutes M  start no new run after M minutes of runs; the final checks still happen
#                and the report says how many of the N runs were made (default: no limit)
#   --output DIR evidence: one line per run (torture.log), each run's producer log, check
#                output and fake systemctl log (runs/NNNN/), summary.env, section.md, and a copy
#                of the store and state at each violation (default /tmp/btrfs-send-torture-DATE)
#   --no-build   use the existing Release build instead of building first
#   --no-doc     do not write the result into docs/reliability.md
#
# Each run: the source subvolume changes a little (so incrementals happen; one run in eight
# first deletes the state file or the local parent snapshot, so fulls happen too), the real
# producer starts, and after a random delay within the run's expected duration one fault hits:
#   producer   SIGKILL of btrfs-send-backup itself
#   ssh        SIGKILL of the producer's ssh client
#   receiver   SIGKILL of btrfs-backup-receive (under sudo, under sshd)
#   sshd       SIGKILL of the sshd session process serving the connection
#   reset      `ss -K` on the TCP connection to sshd
#   blackhole  an nft rule dropping every packet to/from the sshd port for 1-8 s, then removed
#   fill       BACKUP_ROOT's filesystem filled to near-full (fallocate) until the run ends, then freed
# The kinds take turns in a shuffled order (every block of seven runs has each kind once).
# A fault "hit" when its target existed while the producer still ran; otherwise the run
# "completed before the interruption".
#
# Invariants after EVERY run (a violation is counted, printed with the run's evidence, and the
# script exits 1 at the end):
#   store      every manifest's stream exists with the manifest's size and SHA-256 (Python hashlib,
#              independent of our code) and every incremental's parent manifest is there down
#              to a full; and the receiver's own `check --verify-data` is not CRITICAL/UNKNOWN
#   temps      no temp file (.tmp-*) under BACKUP_ROOT or beside the state file survives the
#              next successful run
#   state      the state file never names a snapshot the receiver does not hold
#   services   the quiesced units are running again (fake systemctl: every stop followed by a
#              start) within 20 s of the run's end
#   processes  every process of the run (producer, ssh, receiver, sshd session) ends within 90 s
# After the loop:
#   final      a clean run succeeds, and the restore of the newest backup (btrfs-send-backup
#              restore --from the store) equals its source snapshot (scripts/lib/treedump.py)
#
# The systemctl on the producer's PATH is a fake that records stop/start (this bed has no
# systemd); everything else is real.
set -Eeuo pipefail
export LC_ALL=C
SELF=$(readlink -f "$0")
ROOT=${TORTURE_ROOT:-$(cd "$(dirname "$SELF")/.." && pwd)}
# bash reads a script as it runs: a long run executes a private copy, so editing or checking out
# the worktree meanwhile cannot change the script under it (the programs are copied too, below).
if [ -z "${TORTURE_ROOT:-}" ]; then
  export TORTURE_ROOT=$ROOT
  TORTURE_COPY=$(mktemp /tmp/btrfs-send-torture-script.XXXXXX)
  cp "$SELF" "$TORTURE_COPY"; chmod 0700 "$TORTURE_COPY"
  export TORTURE_COPY
  exec bash "$TORTURE_COPY" "$@"
fi
# Removed by whoever ends last: this process on a usage error, the namespaced run's teardown otherwise.
[ -n "${TESTBED_INNER:-}" ] || trap 'rm -f "${TORTURE_COPY:-}"' EXIT

log() { printf '[torture %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
usage() { sed -n '2,50p' "$SELF" | sed 's/^# \{0,1\}//'; }

RUNS=100 SEED= OUT= BUILD=1 DOC=1 MAX_MIN=0
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [[ "${2:-}" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "torture.sh: --runs '${2:-}' is not allowed; allowed: a whole number 1..9999999" >&2; exit 2; }; RUNS=$2; shift 2 ;;
    --seed) [[ "${2:-}" =~ ^[0-9]{1,9}$ ]] || { echo "torture.sh: --seed '${2:-}' is not allowed; allowed: a whole number 0..999999999" >&2; exit 2; }; SEED=$2; shift 2 ;;
    --output) [ -n "${2:-}" ] || { echo "torture.sh: --output needs a directory" >&2; exit 2; }; OUT=$2; shift 2 ;;
    --max-minutes) [[ "${2:-}" =~ ^[1-9][0-9]{0,5}$ ]] || { echo "torture.sh: --max-minutes '${2:-}' is not allowed; allowed: a whole number 1..999999" >&2; exit 2; }; MAX_MIN=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-doc) DOC=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "torture.sh: unknown argument '$1' (allowed: --runs N, --seed S, --max-minutes M, --output DIR, --no-build, --no-doc)" >&2; exit 2 ;;
  esac
done
set -- "${ARGS[@]}"

. "$ROOT/scripts/lib/testbed.sh"
if [ -z "${TESTBED_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || die "run as root (loop mounts, sshd, sudo, useradd, nft)"
  if ! command -v nft >/dev/null || ! command -v ss >/dev/null || ! command -v fallocate >/dev/null; then
    log "installing nftables iproute2 util-linux"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables iproute2 util-linux >/dev/null
  fi
  # Fixed before entering the namespace, so the re-run uses the same seed and output dir.
  [ -n "$SEED" ] || SEED=$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 1000000000 ))
  [ -n "$OUT" ] || OUT=/tmp/btrfs-send-torture-$(date -u +%Y%m%dT%H%M%SZ)
  export TORTURE_SEED=$SEED TORTURE_OUT=$OUT
fi
testbed_enter torture python3 nft ss fallocate flock -- "$@"
SEED=${TORTURE_SEED:-$SEED}
OUT=${TORTURE_OUT:-$OUT}
mkdir -p "$OUT/runs"
OUT=$(cd "$OUT" && pwd)

testbed_init torture
NFT_TABLE=btrfs_send_torture_$$
FILL_FILE=
torture_cleanup() {
  set +e
  [ -n "${TORTURE_COPY:-}" ] && rm -f "$TORTURE_COPY"
  nft delete table inet "$NFT_TABLE" 2>/dev/null
  [ -n "$FILL_FILE" ] && rm -f "$FILL_FILE"
}
trap 'rc=$?; trap - EXIT; torture_cleanup; testbed_teardown; exit $rc' EXIT

T0=$(date +%s)
STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "runs=$RUNS seed=$SEED output=$OUT; load average $LOAD_START"
if [ "$BUILD" = 1 ]; then
  testbed_build
else
  PRODUCER=$ROOT/src/BtrfsSend.Producer/bin/Release/net10.0/btrfs-send-backup
  RECEIVER=$ROOT/src/BtrfsSend.Receiver/bin/Release/net10.0/btrfs-backup-receive
  [ -x "$PRODUCER" ] && [ -x "$RECEIVER" ] || die "--no-build: no Release build at $PRODUCER / $RECEIVER (run dotnet build -c Release)"
fi
# Run copies, so a rebuild of the worktree during a long run cannot swap the programs under it.
mkdir -p "$W/app"
cp -a "$(dirname "$PRODUCER")" "$W/app/producer"
cp -a "$(dirname "$RECEIVER")" "$W/app/receiver"
PRODUCER=$W/app/producer/$(basename "$PRODUCER")
RECEIVER=$W/app/receiver/$(basename "$RECEIVER")
VERSION=$("$PRODUCER" --version)

# ---------- the bed ----------
testbed_mkfs prod 1G
testbed_mkfs backup 2G
testbed_mkfs restore 1G
SRC=$W/prod/@src
SNAPS=$W/prod/@backup-snapshots
BACKUP_ROOT=$W/backup/btrfs-send-backups
SET=torture/src
SETDIR=$BACKUP_ROOT/$SET
STATE=$W/state/src
mkdir -p "$SNAPS" "$BACKUP_ROOT" "$W/state" "$W/bin"
btrfs subvolume create "$SRC" >/dev/null

testbed_ingest torture-sshd "$BACKUP_ROOT" client
# Hundreds of uploads a day are the point here, not an abuse to refuse.
echo "MAX_UPLOADS_PER_DAY=100000" >> "$W/conf/receiver.conf"
testbed_receiver_key client "$RECEIVER" prod-srv
testbed_sshd 22500

# The fake systemctl: records every call, keeps each unit's state as a file (running/UNIT), a
# stop takes 0.2 s (a quiesce window a fault can hit), one job per unit at a time (flock).
FAKE=$W/systemctl
UNITS=(torture-db.service torture-web.service)
mkdir -p "$FAKE/running" "$FAKE/locks"
for u in "${UNITS[@]}"; do touch "$FAKE/running/$u"; done
: > "$FAKE/log"
cat > "$W/bin/systemctl" <<SH
#!/bin/sh
d=$FAKE
verb=\$1; shift
[ "\$1" = --quiet ] && { q=1; shift; }
[ "\$1" = -- ] && shift
unit=\$1
echo "\$verb \$unit" >> \$d/log
case "\$verb" in
  is-active) if [ -e "\$d/running/\$unit" ]; then echo active; exit 0; else echo inactive; exit 3; fi ;;
  stop) exec 9>"\$d/locks/\$unit"; flock 9; sleep 0.2; rm -f "\$d/running/\$unit" ;;
  start) exec 9>"\$d/locks/\$unit"; flock 9; touch "\$d/running/\$unit" ;;
  *) echo "fake systemctl: unknown verb \$verb" >&2; exit 2 ;;
esac
SH
chmod 0755 "$W/bin/systemctl"

cat > "$W/conf/prod.conf" <<CONF
SOURCE_TOP=$W/prod
SOURCE_SUBVOL=@src
SNAPSHOT_DIR=$SNAPS
SNAPSHOT_PREFIX=torture-src
STATE_FILE=$STATE
BACKUP_SSH_TARGET=$USER_NAME@127.0.0.1
BACKUP_SSH_PORT=$PORT
BACKUP_SSH_IDENTITY_FILE=$W/ssh/client
BACKUP_SET=$SET
PASSPHRASE_FILE=$W/conf/passphrase
BACKUP_MODE=encrypted-stream
FULL_INTERVAL_DAYS=32
LOCAL_KEEP_DAILY=2
SERVICES_TO_QUIESCE=(${UNITS[*]})
SSH_OPTIONS=(HostKeyAlias=torture-sshd StrictHostKeyChecking=yes UserKnownHostsFile=$W/ssh/known_hosts GlobalKnownHostsFile=/dev/null)
CONF
chmod 0600 "$W/conf/prod.conf"

# ---------- reproducible randomness: every draw comes from bash's RANDOM seeded once ----------
RANDOM=$SEED
# rand N: R=0..N-1. Never in $(...): bash reseeds RANDOM in every subshell.
rand() { R=$(( (RANDOM << 15 | RANDOM) % $1 )); }

# The source: a 1 MiB random file, a log, and small files; each run rewrites 64 KiB in place,
# appends to the log, adds a small file and sometimes deletes one.
head -c 1M /dev/urandom > "$SRC/data.bin"
seq 1 20000 > "$SRC/app.log"
mkdir -p "$SRC/small" "$SRC/dir with spaces"
for i in $(seq 1 20); do head -c $(( 512 + i * 300 )) /dev/urandom > "$SRC/small/f$i"; done
ln -s ../app.log "$SRC/dir with spaces/link"
NEXT_FILE=21
change_source() {  # takes 4 draws
  local off add del victim
  rand 16; off=$(( R * 65536 )); rand 16384; add=$(( 512 + R )); rand 4; del=$R; rand 100000; victim=$R
  dd if=/dev/urandom of="$SRC/data.bin" bs=64K count=1 seek=$(( off / 65536 )) conv=notrunc status=none
  head -c 3000 /dev/urandom | base64 -w 120 >> "$SRC/app.log"
  head -c "$add" /dev/urandom > "$SRC/small/f$NEXT_FILE"; NEXT_FILE=$((NEXT_FILE + 1))
  if [ "$del" = 0 ]; then
    local files=("$SRC"/small/*)
    [ ${#files[@]} -gt 10 ] && rm -f "${files[victim % ${#files[@]}]}"
  fi
  return 0
}

# ---------- processes ----------
descendants() {  # PID: every descendant pid, from one ps snapshot (a walk with pgrep per level
  # takes seconds on a loaded machine, longer than a receiver lives)
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = split(kids[root], q, " "); for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], more, " "); for (j = 1; j <= m; j++) q[++n] = more[j] } }'
}
comm_of() { cat "/proc/$1/comm" 2>/dev/null || true; }
# The pids of this bed's own processes still alive besides the sshd listener: anything whose
# command line names the bed's directory (producer: --config, ssh: -i, receiver: --config, btrfs
# send: the snapshot path) and every sshd session process.
bed_processes() {
  { pgrep -f -- "$W/" 2>/dev/null | grep -vx "$SSHD_PID" || true; descendants "$SSHD_PID"; } | sort -u
}
# target_pids KIND: the processes KIND kills, right now (empty when none exists at this moment).
target_pids() {
  local p
  case "$1" in
    producer) kill -0 "$PID" 2>/dev/null && echo "$PID" ;;
    ssh) pgrep -P "$PID" -x ssh 2>/dev/null | head -n 1 ;;
    # The receiver's own command line starts with its path (sudo's and the shell's do not).
    receiver) pgrep -n -f "^$RECEIVER serve " 2>/dev/null || true ;;
    # The newest session: an older one may be a connection of this run that is just ending.
    sshd) p=$(pgrep -n -P "$SSHD_PID" 2>/dev/null || true); [ -n "$p" ] && [ "$(comm_of "$p")" = sshd ] && echo "$p" ;;
  esac
  return 0
}
connection_up() { [ -n "$(ss -Htn state established dst 127.0.0.1 dport = :"$PORT" 2>/dev/null)" ]; }

KINDS=(producer ssh receiver sshd reset blackhole fill)
declare -A N_RUNS N_HIT N_MISS N_OK N_FAIL
for k in "${KINDS[@]}"; do N_RUNS[$k]=0; N_HIT[$k]=0; N_MISS[$k]=0; N_OK[$k]=0; N_FAIL[$k]=0; done
INVARIANTS=(store temps state services processes final)
declare -A VIOL
for v in "${INVARIANTS[@]}"; do VIOL[$v]=0; done
declare -A EXITS
FULLS=0 INCRS=0 FORCED=0 EVIDENCE_COPIES=0

# inject KIND HOLD_MS: waits (while the producer runs) for KIND's target, then strikes; sets HIT
# to 1 when it struck while the producer was still running. Blackhole and fill stay in place
# for HOLD_MS or until the run ends, whichever is first, and are always undone.
inject() {
  local kind=$1 hold=$2 p n until
  HIT=0
  case "$kind" in
    producer|ssh|receiver|sshd)
      while kill -0 "$PID" 2>/dev/null; do
        p=$(target_pids "$kind")
        if [ -n "$p" ] && kill -0 "$PID" 2>/dev/null; then
          n=$(comm_of "$p")
          kill -KILL "$p" 2>/dev/null && HIT=1
          echo "SIGKILL $kind pid $p ($n)" >> "$RUN_DIR/fault.txt"
          break
        fi
        sleep 0.02
      done ;;
    reset)
      while kill -0 "$PID" 2>/dev/null; do
        if connection_up; then
          n=$(ss -K -Htn dst 127.0.0.1 dport = :"$PORT" 2>/dev/null | wc -l)
          echo "ss -K destroyed $n socket(s)" >> "$RUN_DIR/fault.txt"
          [ "$n" -gt 0 ] && HIT=1
          break
        fi
        sleep 0.02
      done ;;
    blackhole)
      if kill -0 "$PID" 2>/dev/null; then
        if nft -f - <<NFT
table inet $NFT_TABLE {
  chain out { type filter hook output priority 0; tcp dport $PORT drop; tcp sport $PORT drop; }
}
NFT
        then HIT=1; else echo "nft failed to add the drop rule" >> "$RUN_DIR/fault.txt"; fi
        echo "nft drop on port $PORT for up to $hold ms (connection up: $(connection_up && echo yes || echo no))" >> "$RUN_DIR/fault.txt"
        until=$(( $(date +%s%3N) + hold ))
        while kill -0 "$PID" 2>/dev/null && [ "$(date +%s%3N)" -lt "$until" ]; do sleep 0.05; done
        nft delete table inet "$NFT_TABLE" 2>/dev/null || true
      fi ;;
    fill)
      if kill -0 "$PID" 2>/dev/null; then
        local avail
        avail=$(df --output=avail -B1 "$W/backup" | tail -n 1 | tr -d ' ')
        FILL_FILE=$W/backup/fill
        # Leave 1 MiB: below MIN_FREE_SPACE=16M and less than a full stream.
        if [ "$avail" -gt $((2 << 20)) ] && fallocate -l $(( avail - (1 << 20) )) "$FILL_FILE" 2>/dev/null; then
          HIT=1
        fi
        echo "fallocate $(( avail - (1 << 20) )) of $avail free bytes: $([ $HIT = 1 ] && echo done || echo failed); free now $(df --output=avail -B1 "$W/backup" | tail -n 1 | tr -d ' ')" >> "$RUN_DIR/fault.txt"
        while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
        rm -f "$FILL_FILE"; FILL_FILE=
        btrfs filesystem sync "$W/backup" >/dev/null 2>&1 || true
      fi ;;
  esac
  return 0
}

# ---------- invariants ----------
VIOLATIONS_THIS_RUN=()
violate() { VIOLATIONS_THIS_RUN+=("$1: $2"); VIOL[$1]=$(( ${VIOL[$1]} + 1 )); log "VIOLATION run $RUN_NO [$1] $2"; }

# The independent store check (Python's hashlib, not our code): every manifest's stream exists
# with its size and SHA-256, every incremental's chain reaches a full. A stream whose inode, size,
# mtime and ctime are unchanged since it last matched is not re-hashed (stored files are 0400 and
# never rewritten); the final check re-hashes everything.
cat > "$W/bin/storecheck.py" <<'PY'
import hashlib, json, os, sys
setdir, cache_path, rehash = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
cache = {}
if not rehash and os.path.exists(cache_path):
    cache = json.load(open(cache_path))
manifests = {}
if os.path.isdir(setdir):
    for name in os.listdir(setdir):
        if name.endswith(".manifest"):
            kv = {}
            for line in open(os.path.join(setdir, name), encoding="utf-8", errors="replace"):
                k, sep, v = line.rstrip("\n").partition("=")
                if sep and k not in kv: kv[k] = v
            manifests[name[:-len(".manifest")]] = kv
bad, newcache = [], {}
for snap, kv in sorted(manifests.items()):
    f = kv.get("stream_file", "")
    path = os.path.join(setdir, f)
    if not f or "/" in f or not os.path.isfile(path):
        bad.append(f"{snap}.manifest names stream '{f}', which does not exist"); continue
    st = os.stat(path)
    if str(st.st_size) != kv.get("stream_bytes"):
        bad.append(f"{f} is {st.st_size} bytes, its manifest says {kv.get('stream_bytes')}"); continue
    ident = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{kv.get('stream_sha256')}"
    if cache.get(path) != ident:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""): h.update(chunk)
        if h.hexdigest() != kv.get("stream_sha256"):
            bad.append(f"{f} has SHA-256 {h.hexdigest()}, its manifest says {kv.get('stream_sha256')}"); continue
    newcache[path] = ident
    cur, seen = snap, set()
    while True:
        m = manifests.get(cur)
        if m is None:
            bad.append(f"the chain of {snap} is broken: no manifest for {cur}"); break
        if m.get("kind") == "full": break
        if m.get("kind") != "incremental" or cur in seen:
            bad.append(f"the chain of {snap} is broken at {cur} (kind '{m.get('kind')}')"); break
        seen.add(cur); cur = m.get("parent", "")
json.dump(newcache, open(cache_path + ".new", "w")); os.replace(cache_path + ".new", cache_path)
for b in bad: print(b)
PY

check_store() {  # 1: re-hash every stream
  local line rc=0
  while IFS= read -r line; do [ -n "$line" ] && violate store "$line"; done < <(python3 "$W/bin/storecheck.py" "$SETDIR" "$W/hash-cache.json" "${1:-0}" 2>&1 || echo "storecheck.py failed")
  "$RECEIVER" check --config "$W/conf/receiver.conf" --max-age 3650d --verify-data > "$RUN_DIR/check.txt" 2>&1 || rc=$?
  if [ "$rc" -ge 2 ]; then violate store "receiver check --verify-data exited $rc: $(head -n 1 "$RUN_DIR/check.txt" | cut -c1-300)"; fi
  return 0
}

temp_files() { { find "$BACKUP_ROOT" -name '.tmp-*' 2>/dev/null; find "$W/state" -maxdepth 1 -name '.tmp-*' 2>/dev/null; } | sort; }

check_state() {
  local s
  s=$( { tr -d '\n' < "$STATE"; } 2>/dev/null || true)
  [ -z "$s" ] && return 0
  [ -f "$SETDIR/$s.manifest" ] || violate state "STATE_FILE names $s, which the receiver does not hold"
}

check_services() {
  local u deadline=$(( $(date +%s) + 20 )) all
  while :; do
    all=1
    for u in "${UNITS[@]}"; do [ -e "$FAKE/running/$u" ] || all=0; done
    [ $all = 1 ] && break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.1
  done
  for u in "${UNITS[@]}"; do
    local last
    last=$(awk -v u="$u" '$2 == u && ($1 == "stop" || $1 == "start") { v = $1 } END { print v }' "$FAKE/log")
    if [ ! -e "$FAKE/running/$u" ] || [ "$last" = stop ]; then
      violate services "$u is not running 20 s after the run (its last systemctl call: ${last:-none})"
    fi
  done
}

wait_processes() {
  local deadline=$(( $(date +%s) + 90 )) left
  while :; do
    left=$(bed_processes)
    [ -z "$left" ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      violate processes "still running 90 s after the run: $(for p in $left; do printf '%s(%s) ' "$p" "$(comm_of "$p")"; done)"
      ps -o pid,ppid,etime,args -p "$(echo $left | tr ' ' ,)" >> "$RUN_DIR/leftover.txt" 2>/dev/null || true
      for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
      sleep 1
      return 0
    fi
    sleep 0.2
  done
}

keep_evidence() {
  [ "$EVIDENCE_COPIES" -lt 5 ] || return 0
  EVIDENCE_COPIES=$((EVIDENCE_COPIES + 1))
  local e=$RUN_DIR/evidence
  mkdir -p "$e"
  cp -a "$BACKUP_ROOT" "$e/store" 2>/dev/null || true
  ls -la --time-style=full-iso "$SETDIR" > "$e/store-listing.txt" 2>&1 || true
  cp -a "$W/state" "$e/state" 2>/dev/null || true
  cp "$FAKE/log" "$e/systemctl.log" 2>/dev/null || true
  cp "$W/ssh/sshd.log" "$e/sshd.log" 2>/dev/null || true
  btrfs subvolume list "$W/prod" > "$e/local-subvolumes.txt" 2>&1 || true
}

# ---------- one run ----------
LAST_START=0
run_producer() {  # starts the producer in the background: PID
  # Snapshot names have one-second resolution: never two runs in the same second.
  local now; now=$(date +%s%3N)
  [ $(( now - LAST_START )) -lt 1100 ] && sleep "$(awk -v d=$(( 1100 - (now - LAST_START) )) 'BEGIN{printf "%.3f", d/1000}')"
  LAST_START=$(date +%s%3N)
  env PATH="$W/bin:$PATH" BTRFS_SEND_LOG_LEVEL=info "$PRODUCER" run --config "$W/conf/prod.conf" > "$RUN_DIR/producer.out" 2> "$RUN_DIR/producer.log" &
  PID=$!
  CHILD=$PID
}

finish_run() {  # RC: the checks every run gets
  CHILD=
  wait_processes
  check_services
  check_store "${1:-0}"
  check_state
  # Temps that were there before a successful run must be gone after it.
  local now_temps
  now_temps=$(temp_files)
  if [ "$RC" = 0 ] && [ -n "$TEMPS_BEFORE" ]; then
    local t
    for t in $TEMPS_BEFORE; do
      grep -qxF "$t" <<< "$now_temps" && violate temps "$t was there before run $RUN_NO, which succeeded, and is still there"
    done
  fi
  TEMPS_BEFORE=$now_temps
  tail -n 12 "$FAKE/log" > "$RUN_DIR/systemctl.log"
}

clean_run() {  # LABEL: an uninterrupted run that must succeed; sets D_MS
  RUN_NO=$1; RUN_DIR=$OUT/runs/$1; mkdir -p "$RUN_DIR"; VIOLATIONS_THIS_RUN=()
  change_source
  local t; t=$(date +%s%3N)
  run_producer
  RC=0; wait "$PID" 2>/dev/null || RC=$?
  local d=$(( $(date +%s%3N) - t ))
  finish_run 1
  if [ "$RC" != 0 ]; then
    violate final "clean run $1 exited $RC: $(grep -v '^\s*$' "$RUN_DIR/producer.log" | tail -n 3 | tr '\n' ' ' | cut -c1-400)"
  fi
  [ ${#VIOLATIONS_THIS_RUN[@]} -eq 0 ] || keep_evidence
  log "$1: exit $RC in $d ms ($(grep -o 'backup OK: .*' "$RUN_DIR/producer.log" | sed 's/, sha256.*//' | cut -c1-120))"
  D_MS=$d
}

TEMPS_BEFORE=
log "bed ready (sshd on 127.0.0.1:$PORT, ingest user $USER_NAME); two clean runs to measure a run's duration"
clean_run warmup-full
D_FULL=$D_MS
clean_run warmup-incremental
D_EXP=$(( (D_FULL + D_MS) / 2 ))
log "expected run duration ${D_EXP} ms (full ${D_FULL}, incremental ${D_MS}); $RUNS interrupted runs follow"

LOOP_T0=$(date +%s)
ORDER=()
DONE_RUNS=0
STOPPED=
for RUN in $(seq 1 "$RUNS"); do
  if [ "$MAX_MIN" -gt 0 ] && [ $(( $(date +%s) - LOOP_T0 )) -ge $(( MAX_MIN * 60 )) ]; then
    STOPPED="the time budget (--max-minutes $MAX_MIN) ran out after $DONE_RUNS of the $RUNS runs asked for"
    log "$STOPPED"
    break
  fi
  RUN_NO=$(printf '%04d' "$RUN"); RUN_DIR=$OUT/runs/$RUN_NO; mkdir -p "$RUN_DIR"; VIOLATIONS_THIS_RUN=()
  # All draws first, in a fixed order, so the schedule depends on --seed alone.
  if [ ${#ORDER[@]} -eq 0 ]; then
    ORDER=("${KINDS[@]}")
    for ((i = ${#ORDER[@]} - 1; i > 0; i--)); do rand $((i + 1)); j=$R; tmp=${ORDER[i]}; ORDER[i]=${ORDER[j]}; ORDER[j]=$tmp; done
  fi
  KIND=${ORDER[0]}; ORDER=("${ORDER[@]:1}")
  rand 10000; FRAC=$R          # the moment, in 1/10000 of 1.2 × the expected duration
  rand 7001; HOLD=$(( 1000 + R ))  # blackhole: 1-8 s
  rand 8; FORCE=$R             # 0: force a full (state file or local parent removed)
  rand 2; HOW=$R
  change_source
  forced=
  if [ "$FORCE" = 0 ] && [ -s "$STATE" ]; then
    parent=$(tr -d '\n' < "$STATE")
    if [ "$HOW" = 0 ]; then rm -f "$STATE"; forced="state file deleted"
    elif [ -d "$SNAPS/$parent" ]; then btrfs subvolume delete -c "$SNAPS/$parent" >/dev/null 2>&1 && forced="local parent $parent deleted"
    fi
    [ -n "$forced" ] && FORCED=$((FORCED + 1))
  fi
  DELAY=$(( D_EXP * 12 * FRAC / 100000 ))
  t=$(date +%s%3N)
  run_producer
  # The delay runs while the producer does; a producer that ends first ends the wait.
  deadline=$(( t + DELAY ))
  while kill -0 "$PID" 2>/dev/null && [ "$(date +%s%3N)" -lt "$deadline" ]; do sleep 0.01; done
  : > "$RUN_DIR/fault.txt"
  inject "$KIND" "$HOLD"
  RC=0; wait "$PID" 2>/dev/null || RC=$?
  DONE_RUNS=$RUN
  DUR=$(( $(date +%s%3N) - t ))
  finish_run
  N_RUNS[$KIND]=$(( ${N_RUNS[$KIND]} + 1 ))
  if [ "$HIT" = 1 ]; then N_HIT[$KIND]=$(( ${N_HIT[$KIND]} + 1 )); else N_MISS[$KIND]=$(( ${N_MISS[$KIND]} + 1 )); fi
  if [ "$RC" = 0 ]; then N_OK[$KIND]=$(( ${N_OK[$KIND]} + 1 )); else N_FAIL[$KIND]=$(( ${N_FAIL[$KIND]} + 1 )); fi
  EXITS[$RC]=$(( ${EXITS[$RC]:-0} + 1 ))
  if [ "$RC" = 0 ]; then
    if grep -q 'backup OK: set [^ ]* full ' "$RUN_DIR/producer.log"; then FULLS=$((FULLS + 1)); else INCRS=$((INCRS + 1)); fi
    # The expected duration follows the machine's load: a moving average of undisturbed runs.
    [ "$HIT" = 0 ] && D_EXP=$(( (D_EXP * 3 + DUR) / 4 ))
  fi
  [ ${#VIOLATIONS_THIS_RUN[@]} -eq 0 ] || keep_evidence
  printf '%s kind=%s delay_ms=%s hit=%s exit=%s ms=%s forced_full=%s violations=%s %s\n' "$RUN_NO" "$KIND" "$DELAY" "$HIT" "$RC" "$DUR" \
    "${forced:+yes}" "${#VIOLATIONS_THIS_RUN[@]}" "$(tr '\n' ';' < "$RUN_DIR/fault.txt" | cut -c1-160)" >> "$OUT/torture.log"
  if [ $(( RUN % 25 )) = 0 ] || [ ${#VIOLATIONS_THIS_RUN[@]} -gt 0 ]; then
    log "run $RUN/$RUNS: $KIND hit=$HIT exit=$RC; so far violations $(for v in "${INVARIANTS[@]}"; do printf '%s=%s ' "$v" "${VIOL[$v]}"; done)"
  fi
done
LOOP_SECS=$(( $(date +%s) - LOOP_T0 ))

# ---------- after the loop: a clean run, then restore the newest and compare ----------
log "final clean run, full re-hash of every stream, restore of the newest"
clean_run final
check_store 1
NEWEST=$( { tr -d '\n' < "$STATE"; } 2>/dev/null || true)
RESTORE_NOTE="not attempted"
if [ "$RC" = 0 ] && [ -n "$NEWEST" ]; then
  if "$PRODUCER" restore --config "$W/conf/prod.conf" --set "$SET" --snapshot "$NEWEST" --from "$BACKUP_ROOT" \
       --passphrase-file "$W/conf/passphrase" --to "$W/restore" > "$OUT/restore.log" 2>&1; then
    # One documented btrfs send limit (docs/fidelity.md): an incremental stream does not carry the
    # subvolume root's own mtime, so that field of line 1 (path=.) is left out, nothing else.
    python3 "$ROOT/scripts/lib/treedump.py" "$SNAPS/$NEWEST" | sed '1s/ mtime=[^ ]*//' > "$OUT/tree.source"
    python3 "$ROOT/scripts/lib/treedump.py" "$W/restore/$NEWEST" | sed '1s/ mtime=[^ ]*//' > "$OUT/tree.restored"
    if diff "$OUT/tree.source" "$OUT/tree.restored" > "$OUT/tree.diff"; then
      su=$(btrfs subvolume show "$SNAPS/$NEWEST" | awk '$1=="UUID:"{print $2}')
      ru=$(btrfs subvolume show "$W/restore/$NEWEST" | awk '$1=="Received"{print $3}')
      if [ "$su" = "$ru" ]; then
        RESTORE_NOTE="$NEWEST restored, $(wc -l < "$OUT/tree.restored") entries identical to the source snapshot, received_uuid matches"
      else
        violate final "restored $NEWEST has received_uuid $ru, its source's uuid is $su"
      fi
    else
      violate final "restored $NEWEST differs from its source: $(head -n 4 "$OUT/tree.diff" | tr '\n' ' ' | cut -c1-300)"
    fi
  else
    violate final "restore of $NEWEST failed: $(tail -n 3 "$OUT/restore.log" | tr '\n' ' ' | cut -c1-300)"
  fi
else
  violate final "no newest snapshot to restore (final run exit $RC, state '${NEWEST}')"
fi
[ ${#VIOLATIONS_THIS_RUN[@]} -eq 0 ] || keep_evidence

# ---------- report ----------
SECS=$(( $(date +%s) - T0 ))
TOTAL_VIOL=0; for v in "${INVARIANTS[@]}"; do TOTAL_VIOL=$(( TOTAL_VIOL + ${VIOL[$v]} )); done
HITS=0 MISSES=0; for k in "${KINDS[@]}"; do HITS=$(( HITS + ${N_HIT[$k]} )); MISSES=$(( MISSES + ${N_MISS[$k]} )); done
STREAMS=$(ls "$SETDIR" | grep -c '\.manifest$' || true)
ORPHANS=0
for s in "$SETDIR"/*.btrfs.gpg; do [ -e "$s" ] || continue; b=$(basename "$s"); [ -f "$SETDIR/${b%%.*}.manifest" ] || ORPHANS=$((ORPHANS + 1)); done
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
exits_text=$(for c in $(printf '%s\n' "${!EXITS[@]}" | sort -n); do printf '%s: %s, ' "$c" "${EXITS[$c]}"; done | sed 's/, $//')

{
  echo "runs=$DONE_RUNS"
  echo "runs_asked=$RUNS"
  echo "seed=$SEED"
  echo "seconds=$SECS"
  echo "hit=$HITS"
  echo "completed_before=$MISSES"
  for k in "${KINDS[@]}"; do echo "kind_${k}=${N_RUNS[$k]}"; echo "hit_${k}=${N_HIT[$k]}"; done
  for v in "${INVARIANTS[@]}"; do echo "violations_${v}=${VIOL[$v]}"; done
  echo "violations=$TOTAL_VIOL"
} > "$OUT/summary.env"

{
  echo "## Torture: $DONE_RUNS interrupted runs"
  echo
  echo "Generated by \`scripts/torture.sh\` (the block between the torture markers; \`scripts/reliability.sh\` keeps it)."
  echo
  echo "- **Date:** $STARTED (finished $(date -u '+%H:%M:%S UTC')); **duration** ${SECS} s (${LOOP_SECS} s for the interrupted runs, $(awk -v s="$LOOP_SECS" -v n="$DONE_RUNS" 'BEGIN{if (n < 1) n = 1; printf "%.1f", s/n}') s per run)"
  echo "- **Commit:** ${COMMIT}${DIRTY}, btrfs-send-backup $VERSION"
  echo "- **Machine:** $(uname -n), kernel $(uname -r), $(nproc) CPU ($CPU); load average $LOAD_START at the start, $LOAD_END at the end (shared with other jobs)"
  echo "- **Runs:** $DONE_RUNS${STOPPED:+ ($STOPPED)}, seed $SEED; a run's expected duration (moving average of undisturbed runs) was ${D_FULL} ms for the first full, ${D_EXP} ms at the end"
  echo "- **Rerun:** \`sudo scripts/torture.sh --runs $RUNS --seed $SEED\`"
  echo
  echo "| fault | runs | hit while the producer ran | completed before the fault | producer exit 0 | producer exit ≠ 0 |"
  echo "|---|---:|---:|---:|---:|---:|"
  for k in "${KINDS[@]}"; do
    echo "| $k | ${N_RUNS[$k]} | ${N_HIT[$k]} | ${N_MISS[$k]} | ${N_OK[$k]} | ${N_FAIL[$k]} |"
  done
  echo "| **all** | $DONE_RUNS | $HITS | $MISSES | $(( FULLS + INCRS )) | $(( DONE_RUNS - FULLS - INCRS )) |"
  echo
  echo "Producer exit codes (code: runs): $exits_text. Successful runs: $FULLS full, $INCRS incremental; $FORCED runs first had the state file or the local parent removed to force a full."
  echo "At the end the store held $STREAMS manifests (none pruned: the receiver's prune was not run) and $ORPHANS stream file(s) without a manifest."
  echo
  echo "| invariant (checked after every run) | violations |"
  echo "|---|---:|"
  echo "| every manifest's stream exists with its size and SHA-256 (re-hashed by Python hashlib, not our code), every chain reaches a full, receiver \`check --verify-data\` not CRITICAL | ${VIOL[store]} |"
  echo "| no temp file survives the next successful run | ${VIOL[temps]} |"
  echo "| the state file never names a snapshot the receiver does not hold | ${VIOL[state]} |"
  echo "| the quiesced services run again (every stop followed by a start) | ${VIOL[services]} |"
  echo "| every process of the run ends within 90 s | ${VIOL[processes]} |"
  echo "| after the loop: a clean run succeeds, restore of the newest equals its source | ${VIOL[final]} |"
  echo "| **total** (expected 0) | **$TOTAL_VIOL** |"
  echo
  echo "Final restore: $RESTORE_NOTE."
  echo
  echo "How: a private mount namespace with loop-mounted btrfs for prod-srv and backup-srv, the ingest user's sshd on 127.0.0.1 forcing \`sudo -n btrfs-backup-receive serve\`, the real producer \`btrfs-send-backup run\` with a 1 MiB-plus source that changes before every run; only systemctl is a fake (it records stop/start). Faults: SIGKILL of the producer, of its ssh client, of the receiver, of the sshd session process; \`ss -K\` on the connection; an nft rule dropping the connection's packets for 1-8 s; BACKUP_ROOT's filesystem filled to 1 MiB free until the run ends. Each strikes at a random moment within 1.2 × the run's expected duration (waiting, for the kill and reset kinds, until its target exists); one kind per run, every kind once per seven runs. See the script's header for the exact invariants."
} > "$OUT/section.md"
cat "$OUT/section.md" >&2

if [ "$DOC" = 1 ]; then
  doc=$ROOT/docs/reliability.md
  [ -f "$doc" ] || printf '# Reliability\n' > "$doc"
  if grep -q '^<!-- torture:begin -->$' "$doc" && grep -q '^<!-- torture:end -->$' "$doc"; then
    awk -v section="$OUT/section.md" '
      BEGIN { while ((getline line < section) > 0) text = text line "\n" }
      /^<!-- torture:begin -->$/ { print; printf "%s", text; skipping = 1; next }
      /^<!-- torture:end -->$/ { skipping = 0 }
      !skipping { print }
    ' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
  else
    { echo; echo '<!-- torture:begin -->'; cat "$OUT/section.md"; echo '<!-- torture:end -->'; } >> "$doc"
  fi
  log "wrote the torture block of $doc"
fi

if [ "$TOTAL_VIOL" -gt 0 ]; then
  log "FAILED: $TOTAL_VIOL violation(s): $(for v in "${INVARIANTS[@]}"; do [ "${VIOL[$v]}" -gt 0 ] && printf '%s=%s ' "$v" "${VIOL[$v]}"; done)— evidence kept in $OUT (torture.log, runs/*/)"
  exit 1
fi
log "done: $DONE_RUNS runs, $HITS interrupted, $MISSES completed before the fault, 0 violations, ${SECS} s; evidence in $OUT"
