#!/usr/bin/env bash
# scripts/bench.sh — the whole pipeline against the shell pipeline it replaces (issue 11).
# Run as root. Everything lives in a temp dir inside a private mount namespace and is torn down
# on exit (also on Ctrl-C / SIGTERM); the set-up (loop btrfs, private sshd on 127.0.0.1, ingest
# user, sudo forced command) is scripts/lib/testbed.sh, shared with scripts/demo.sh.
#
#   BENCH_SIZE      source subvolume size (default 2G; half incompressible, half text, many
#                   small files plus a few large ones); the incremental changes ~10% of it
#   BENCH_BIG_SIZE  second, incompressible source for peak RSS at a larger stream (default 8G;
#                   0 skips that run, e.g. for a quick BENCH_SIZE=512M BENCH_BIG_SIZE=0 check)
#   BENCH_REPEAT    runs per row, best taken by wall time (default 3)
#   BENCH_SSH_CIPHER  ssh -c for every row, ours included (default: ssh's default)
#   BENCH_PROFILE   1 (default when perf is installed): one more full run of ours under
#                   `perf record` (JIT symbols via DOTNET_PerfMapEnabled, W^X off so perf sees them), reported by process/thread and symbol
#   BENCH_BASELINE  another build's btrfs-send-backup (e.g. of the previous commit), run as extra
#                   rows "baseline" next to ours (same receiver, same data) to measure a change
#   BENCH_BUILD     published (default): the programs as they ship, from scripts/build.sh (native
#                   receiver, single-file ReadyToRun producer); dev: the JIT build of `dotnet build`
#   BENCH_BWLIMIT   BWLIMIT for one more full run of ours over a 1 GiB incompressible source
#                   (default 20M; 0 skips it): the achieved average against the limit
#
# Writes the "Pipeline: ours vs the shell pipeline", "Peak RSS" and "Receiver start-up over ssh"
# sections of docs/benchmarks.md (replacing those sections only) and prints them. Store scale
# (list/prune/check over 20,000 manifests) is scripts/bench-store.sh.
set -Eeuo pipefail
export LC_ALL=C
SELF=$(readlink -f "$0")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)

log() { printf '[bench %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# The test bed (private mount namespace, loop btrfs, ingest user, sudo, sshd): scripts/lib/testbed.sh.
. "$ROOT/scripts/lib/testbed.sh"
testbed_enter bench python3 /usr/bin/time numfmt -- "$@"

SIZE=${BENCH_SIZE:-2G}
BIG=${BENCH_BIG_SIZE:-8G}
REPS=${BENCH_REPEAT:-3}
SIZE_B=$(numfmt --from=iec "$SIZE")
BIG_B=$(numfmt --from=iec "$BIG")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BWLIMIT_BENCH=${BENCH_BWLIMIT:-20M}
# Our runs log every step to stderr (a run without a TTY prints one summary line otherwise): the
# report reads the send stage's time and the run phases from there.
export BTRFS_SEND_LOG_LEVEL=info

testbed_init bench

T0=${EPOCHREALTIME/./}
log "BENCH_SIZE=$SIZE BENCH_BIG_SIZE=$BIG BENCH_REPEAT=$REPS; load average $LOAD_START"
case "${BENCH_BUILD:-published}" in
  published) testbed_build published; BUILD_DESC="published build: native receiver, single-file ReadyToRun producer, as scripts/build.sh makes them" ;;
  dev) testbed_build; BUILD_DESC="dev build: JIT, dotnet build" ;;
  *) die "BENCH_BUILD='$BENCH_BUILD' (allowed: published, dev)" ;;
esac
VERSION=$("$PRODUCER" --version)

GiB=$((1 << 30))
log "loop-mounted btrfs (sparse images under $W)"
testbed_mkfs prod $(( SIZE_B * 2 + BIG_B * 11 / 10 + 2 * GiB ))
testbed_mkfs backup $(( SIZE_B * 6 + BIG_B * 11 / 10 + 2 * GiB ))
testbed_mkfs restore $(( SIZE_B * 3 + GiB ))
mkdir -p "$W/prod/@backup-snapshots" "$W/prod/bench" "$W/backup/btrfs-send-backups" "$W/usage" "$W/bin"

# ---------- data ----------
cat > "$W/bin/gen.py" <<'PY'
import os, random, sys
mode, top, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(11)
words = "alpha beta gamma delta request response cache miss hit user order invoice backup restore".split()
def text_pool(n):
    out, size = [], 0
    while size < n:
        line = "2026-11-%02d %02d:%02d:%02d host%02d app[%d]: %s id=%08x path=/api/v1/%s/%d status=%d bytes=%d\n" % (
            rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(1, 40),
            rnd.randint(100, 99999), rnd.choice(words), rnd.getrandbits(32), rnd.choice(words), rnd.randint(1, 9999),
            rnd.choice((200, 200, 200, 404, 500)), rnd.randint(0, 1 << 20))
        out.append(line); size += len(line)
    return "".join(out).encode()
POOL = text_pool(8 << 20)
def text(n, salt):
    off = (salt * 7919) % (len(POOL) - 1)
    b = bytearray()
    while len(b) < n:
        b += POOL[off:off + n - len(b)]; off = 0
    return bytes(b)
def write_big(path, n, random_data, salt):
    with open(path, "wb") as f:
        left, i = n, 0
        while left > 0:
            c = min(left, 4 << 20)
            f.write(os.urandom(c) if random_data else text(c, salt + i))
            left -= c; i += 1
def small_files(base, budget, start):
    i, used = start, 0
    while used < budget:
        n = rnd.randint(512, 48 << 10)
        d = os.path.join(base, "d%04d" % (i // 500)); os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%06d" % i), "wb") as f:
            f.write(os.urandom(n) if i % 2 else text(n, i))
        used += n; i += 1
    return i
if mode == "full":      # 70% in 6 large files (3 random, 3 text), 30% in small files (half random)
    os.makedirs(top + "/large", exist_ok=True)
    for k in range(3):
        write_big("%s/large/random-%d.bin" % (top, k), total * 7 // 60, True, k)
        write_big("%s/large/text-%d.log" % (top, k), total * 7 // 60, False, 100 + k)
    n = small_files(top + "/small", total * 3 // 10, 0)
    print(n, "small files")
elif mode == "change":  # ~10%: rewrite 4% in place, append 2% text, add 3% small files, delete 1%
    for k in range(3):
        p = "%s/large/random-%d.bin" % (top, k); size = os.path.getsize(p)
        with open(p, "r+b") as f:
            for _ in range(max(1, total * 4 // 100 // 3 // (1 << 20))):
                f.seek(rnd.randrange(0, max(1, size - (1 << 20)))); f.write(os.urandom(1 << 20))
        with open("%s/large/text-%d.log" % (top, k), "ab") as f:
            f.write(text(total * 2 // 100 // 3, 500 + k))
    small = sorted(os.path.join(d, x) for d, _, fs in os.walk(top + "/small") for x in fs)
    small_files(top + "/small-new", total * 3 // 100, 10**6)
    gone = 0
    for p in rnd.sample(small, len(small)):
        if gone >= total // 100: break
        gone += os.path.getsize(p); os.unlink(p)
elif mode == "big":     # incompressible, 1 GiB files
    k = 0
    while total > 0:
        c = min(total, 1 << 30); write_big("%s/random-%d.bin" % (top, k), c, True, k); total -= c; k += 1
PY

btrfs subvolume create "$W/prod/@src" >/dev/null
log "generating $SIZE of mixed data in @src"
python3 "$W/bin/gen.py" full "$W/prod/@src" "$SIZE_B" >&2
sync

# ---------- backup server: ingest user, receiver behind a usage wrapper, sink keys ----------
testbed_ingest bench-sshd "$W/backup/btrfs-send-backups" client sink trivial
install -d -m 0755 -o "$USER_NAME" "$W/backup/sink" "$W/usage/sink"
install -m 0644 -o "$USER_NAME" /dev/null "$W/usage/sink/sink.log"
# The receiver runs exactly as in production (sudo, forced command, --client pin); the wrapper only
# records its rusage (wall, user, sys, max RSS) with /usr/bin/time, one line per invocation.
cat > "$W/bin/recv" <<SH
#!/bin/sh
exec /usr/bin/time -a -o $W/usage/recv.log -f '%e %U %S %M' $RECEIVER "\$@"
SH
# The plain sink for the shell rows: what \`ssh ... 'cat > file'\` runs, with its rusage recorded.
cat > "$W/bin/sink" <<SH
#!/bin/sh
exec /usr/bin/time -a -o $W/usage/sink/sink.log -f '%e %U %S %M' sh -c 'cat > $W/backup/sink/out'
SH
chmod 0755 "$W/bin/recv" "$W/bin/sink"
testbed_receiver_key client "$W/bin/recv" bench
testbed_forced_key sink "$W/bin/sink"
testbed_forced_key trivial /bin/true
testbed_sshd 22400

CIPHER_LINE=
[ -n "${BENCH_SSH_CIPHER:-}" ] && CIPHER_LINE="SSH_CIPHER=$BENCH_SSH_CIPHER"
write_conf() {  # name subvol set
  cat > "$W/conf/$1.conf" <<CONF
SOURCE_TOP=$W/prod
SOURCE_SUBVOL=$2
SNAPSHOT_DIR=$W/prod/@backup-snapshots
SNAPSHOT_PREFIX=$1
STATE_FILE=$W/state/$1
BACKUP_SSH_TARGET=$USER_NAME@127.0.0.1
BACKUP_SSH_PORT=$PORT
BACKUP_SSH_IDENTITY_FILE=$W/ssh/client
BACKUP_SET=$3
PASSPHRASE_FILE=$W/conf/passphrase
BACKUP_MODE=encrypted-stream
FULL_INTERVAL_DAYS=32
LOCAL_KEEP_WITHIN=7d
LOCK_FILE=$W/state/$1.lock
$CIPHER_LINE
SERVICES_TO_QUIESCE=()
SSH_OPTIONS=(HostKeyAlias=bench-sshd StrictHostKeyChecking=yes UserKnownHostsFile=$W/ssh/known_hosts GlobalKnownHostsFile=/dev/null)
CONF
  chmod 0600 "$W/conf/$1.conf"
}
write_conf data @src bench/data
# The same ssh options the producer passes (src/BtrfsSend.Core/Transport/SshArgv.cs), for the shell rows,
# except the cipher preference: the shell rows keep ssh's default cipher, as the scripts run it (ours
# offers AES-GCM first on CPUs with AES instructions; BENCH_SSH_CIPHER sets one cipher for every row).
SSH=(ssh -o BatchMode=yes -o ClearAllForwardings=yes -o RequestTTY=no -o ServerAliveInterval=5 -o ServerAliveCountMax=3
     -p "$PORT" -o IdentitiesOnly=yes -o HostKeyAlias=bench-sshd -o StrictHostKeyChecking=yes
     -o UserKnownHostsFile="$W/ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null)
[ -n "${BENCH_SSH_CIPHER:-}" ] && SSH+=(-c "$BENCH_SSH_CIPHER")
export GNUPGHOME=$W/gnupg
GPG="gpg --batch --quiet --pinentry-mode loopback --passphrase-file $W/conf/passphrase"

# ---------- measuring ----------
# measure LABEL CMD...: runs CMD under /usr/bin/time; sets WALL USR SYS RSS (KiB, the largest of the
# process tree: for ours the .NET process, its children being btrfs and ssh) and the forced-command
# side RUSR RSYS RRSS summed over every invocation (recv.log for ours, sink.log for the shell rows).
measure() {
  : > "$W/usage/recv.log"; : > "$W/usage/sink/sink.log"
  /usr/bin/time -o "$W/usage/local" -f '%e %U %S %M' "$@" 2> "$W/usage/stderr" || { cat "$W/usage/stderr" >&2; die "$1 failed"; }
  read -r WALL USR SYS RSS < "$W/usage/local"
  read -r RUSR RSYS RRSS < <(cat "$W/usage/recv.log" "$W/usage/sink/sink.log" | awk '{u+=$2; s+=$3; if ($4>m) m=$4} END {printf "%.2f %.2f %d\n", u, s, m}')
}
declare -A B_WALL B_CPU B_RSS B_RCPU B_RRSS
best_of() {  # KEY PREP-FUNCTION CMD...: best of $REPS by wall; PREP runs before each (untimed)
  local key=$1 prep=$2; shift 2
  local i
  for i in $(seq "$REPS"); do
    "$prep"
    measure "$@"
    log "  $key #$i: ${WALL}s wall, cpu ${USR}+${SYS}s, rss $((RSS / 1024)) MiB; far side cpu ${RUSR}+${RSYS}s rss $((RRSS / 1024)) MiB"
    if [ -z "${B_WALL[$key]:-}" ] || awk -v a="$WALL" -v b="${B_WALL[$key]}" 'BEGIN{exit !(a<b)}'; then
      B_WALL[$key]=$WALL; B_CPU[$key]=$(awk -v u="$USR" -v s="$SYS" 'BEGIN{printf "%.2f", u+s}')
      cp "$W/usage/stderr" "$W/usage/best-$key.err"; B_RSS[$key]=$RSS; B_RCPU[$key]=$(awk -v u="$RUSR" -v s="$RSYS" 'BEGIN{printf "%.2f", u+s}'); B_RRSS[$key]=$RRSS
    fi
  done
}
noprep() { :; }
clear_sink() { rm -f "$W/backup/sink/out"; }

# ---------- full ----------
btrfs subvolume snapshot -r "$W/prod/@src" "$W/prod/bench/full" >/dev/null
FULL_BYTES=$(btrfs send -q "$W/prod/bench/full" | wc -c)
log "full send stream: $FULL_BYTES bytes"
log "full: limit rows"
best_of full_null noprep bash -c "btrfs send -q $W/prod/bench/full > /dev/null"
SSHQ=$(printf '%q ' "${SSH[@]}")
best_of full_ssh clear_sink bash -c "set -o pipefail; btrfs send -q $W/prod/bench/full | $SSHQ -i $W/ssh/sink $USER_NAME@127.0.0.1 -- 'cat > file'"
log "full: the shell scripts' gpg pipeline (defaults) and --compress-algo none"
best_of full_gpg clear_sink bash -c "set -o pipefail; btrfs send -q $W/prod/bench/full | $GPG --symmetric --cipher-algo AES256 -o - | $SSHQ -i $W/ssh/sink $USER_NAME@127.0.0.1 -- 'cat > file'"
GPG_DEFAULT_BYTES=$(stat -c %s "$W/backup/sink/out")
best_of full_gpgnone clear_sink bash -c "set -o pipefail; btrfs send -q $W/prod/bench/full | $GPG --symmetric --cipher-algo AES256 --compress-algo none -o - | $SSHQ -i $W/ssh/sink $USER_NAME@127.0.0.1 -- 'cat > file'"
clear_sink
log "full: ours (btrfs-send-backup run → sshd → sudo → btrfs-backup-receive serve)"
ours_full_prep() { sleep 1; rm -f "$W/state/data"; }
best_of full_ours ours_full_prep "$PRODUCER" run --config "$W/conf/data.conf"
grep -o 'backup OK: .*' "$W/usage/stderr" | sed 's/, sha256.*//' >&2 || true
F3=$(cat "$W/state/data")
PROFILE=${BENCH_PROFILE:-$(command -v perf >/dev/null 2>&1 && echo 1 || echo 0)}
if [ "$PROFILE" = 1 ]; then
  log "full: one more run of ours under perf record (producer side: .NET threads, btrfs send, ssh client)"
  ours_full_prep
  maps_before=$(ls /tmp/perf-*.map 2>/dev/null || true)
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -F 499 -o "$W/usage/perf.data" -- "$PRODUCER" run --config "$W/conf/data.conf" 2> "$W/usage/perf.err" \
    || { cat "$W/usage/perf.err" >&2; die "the profiled run failed"; }
  perf report -i "$W/usage/perf.data" --stdio --sort comm,dso 2>/dev/null | grep -E '^ +[0-9]' | head -n 14 > "$W/usage/perf-comm.txt" || true
  perf report -i "$W/usage/perf.data" --stdio --sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -n 25 | cut -c1-150 > "$W/usage/perf-sym.txt" || true
  for m in $(ls /tmp/perf-*.map 2>/dev/null || true); do grep -qxF "$m" <<< "$maps_before" || rm -f "$m"; done
  rm -f "$W/usage/perf.data"
fi
if [ -n "${BENCH_BASELINE:-}" ]; then
  log "full: baseline $BENCH_BASELINE"
  best_of full_base ours_full_prep "$BENCH_BASELINE" run --config "$W/conf/data.conf"
  echo "$F3" > "$W/state/data"
fi
SET_DIR=$W/backup/btrfs-send-backups/bench/data
OURS_FULL_STORED=$(stat -c %s "$SET_DIR/$F3.full.btrfs.gpg")

# ---------- incremental ----------
log "changing ~10% of @src"
python3 "$W/bin/gen.py" change "$W/prod/@src" "$SIZE_B" >&2
sync
btrfs subvolume snapshot -r "$W/prod/@src" "$W/prod/bench/incr" >/dev/null
INCR_BYTES=$(btrfs send -q -p "$W/prod/bench/full" "$W/prod/bench/incr" | wc -c)
log "incremental send stream: $INCR_BYTES bytes"
SEND_I="btrfs send -q -p $W/prod/bench/full $W/prod/bench/incr"
best_of incr_null noprep bash -c "$SEND_I > /dev/null"
best_of incr_ssh clear_sink bash -c "set -o pipefail; $SEND_I | $SSHQ -i $W/ssh/sink $USER_NAME@127.0.0.1 -- 'cat > file'"
best_of incr_gpg clear_sink bash -c "set -o pipefail; $SEND_I | $GPG --symmetric --cipher-algo AES256 -o - | $SSHQ -i $W/ssh/sink $USER_NAME@127.0.0.1 -- 'cat > file'"
best_of incr_gpgnone clear_sink bash -c "set -o pipefail; $SEND_I | $GPG --symmetric --cipher-algo AES256 --compress-algo none -o - | $SSHQ -i $W/ssh/sink $USER_NAME@127.0.0.1 -- 'cat > file'"
clear_sink
ours_incr_prep() { sleep 1; echo "$F3" > "$W/state/data"; }
best_of incr_ours ours_incr_prep "$PRODUCER" run --config "$W/conf/data.conf"
grep -o 'backup OK: .*' "$W/usage/stderr" | sed 's/, sha256.*//' >&2 || true
grep -q "incremental" "$W/usage/stderr" || die "ours incremental run was not incremental"
I3=$(cat "$W/state/data")
if [ -n "${BENCH_BASELINE:-}" ]; then
  log "incremental: baseline $BENCH_BASELINE"
  best_of incr_base ours_incr_prep "$BENCH_BASELINE" run --config "$W/conf/data.conf"
  grep -q "incremental" "$W/usage/stderr" || die "baseline incremental run was not incremental"
  echo "$I3" > "$W/state/data"
fi

# ---------- restore ----------
log "restore: ours vs gpg --decrypt | btrfs receive, chain $F3 + $I3"
clear_restore() { for s in "$W/restore"/*/; do [ -d "$s" ] && btrfs subvolume delete -c "$s" >/dev/null; done; btrfs subvolume sync "$W/restore" >/dev/null 2>&1 || true; }
best_of restore_gpg clear_restore bash -c "set -o pipefail; for f in $SET_DIR/$F3.full.btrfs.gpg $SET_DIR/$I3.incr.btrfs.gpg; do $GPG --decrypt \"\$f\" | btrfs receive -q $W/restore || exit 1; done"
best_of restore_ours clear_restore "$PRODUCER" restore --config "$W/conf/data.conf" --set bench/data --snapshot "$I3" --from "$W/backup/btrfs-send-backups" --passphrase-file "$W/conf/passphrase" --to "$W/restore"
[ "$(btrfs subvolume show "$W/restore/$I3" | awk '$1=="Received"{print $3}')" = "$(btrfs subvolume show "$W/prod/@backup-snapshots/$I3" | awk '$1=="UUID:"{print $2}')" ] || die "restored $I3 has the wrong received_uuid"
diff -rq "$W/prod/@backup-snapshots/$I3" "$W/restore/$I3" >/dev/null || die "restored $I3 differs from its source"
clear_restore
if [ "$PROFILE" = 1 ]; then
  log "restore: one more run of ours under perf record (.NET threads and btrfs receive)"
  maps_before=$(ls /tmp/perf-*.map 2>/dev/null || true)
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -F 499 -o "$W/usage/perf.data" -- "$PRODUCER" restore --config "$W/conf/data.conf" --set bench/data --snapshot "$I3" \
    --from "$W/backup/btrfs-send-backups" --passphrase-file "$W/conf/passphrase" --to "$W/restore" 2> "$W/usage/perf.err" > /dev/null \
    || { cat "$W/usage/perf.err" >&2; die "the profiled restore failed"; }
  perf report -i "$W/usage/perf.data" --stdio --sort comm,dso 2>/dev/null | grep -E '^ +[0-9]' | head -n 12 > "$W/usage/perf-restore-comm.txt" || true
  perf report -i "$W/usage/perf.data" --stdio --sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -n 20 | cut -c1-150 > "$W/usage/perf-restore-sym.txt" || true
  for m in $(ls /tmp/perf-*.map 2>/dev/null || true); do grep -qxF "$m" <<< "$maps_before" || rm -f "$m"; done
  rm -f "$W/usage/perf.data"
  clear_restore
fi

# ---------- peak RSS at a larger stream ----------
BIG_WALL=— BIG_CPU=— BIG_RSS=0 BIG_RRSS=0 BIG_STORED=0
if [ "$BIG_B" -gt 0 ]; then
  log "peak RSS: a $BIG incompressible source"
  btrfs subvolume create "$W/prod/@big" >/dev/null
  python3 "$W/bin/gen.py" big "$W/prod/@big" "$BIG_B" >&2
  sync
  write_conf big @big bench/big
  measure "$PRODUCER" run --config "$W/conf/big.conf"
  BIG_WALL=$WALL BIG_CPU=$(awk -v u="$USR" -v s="$SYS" 'BEGIN{printf "%.2f", u+s}') BIG_RSS=$RSS BIG_RRSS=$RRSS
  BIG_STORED=$(stat -c %s "$W/backup/btrfs-send-backups/bench/big/$(cat "$W/state/big").full.btrfs.gpg")
  rm -f "$W/backup/btrfs-send-backups/bench/big/"*   # free the space; the run's numbers are kept
  btrfs subvolume delete "$W/prod/@big" >/dev/null
fi

# ---------- bandwidth limit ----------
BW_RATE= BW_BYTES= BW_SECONDS= BW_DEV= BW_LIMIT_MIB= BW_WHOLE=
if [ "$BWLIMIT_BENCH" != 0 ]; then
  log "BWLIMIT=$BWLIMIT_BENCH: a full run of ours over a 1 GiB incompressible source"
  btrfs subvolume create "$W/prod/@bw" >/dev/null
  python3 "$W/bin/gen.py" big "$W/prod/@bw" "$GiB" >&2
  sync
  write_conf bw @bw bench/bw
  echo "BWLIMIT=$BWLIMIT_BENCH" >> "$W/conf/bw.conf"
  # The rate is what arrives: the bytes of the set's files on the backup server, sampled every
  # 0.2 s while the run lasts; the average is taken between the samples at 5% and 95% of the
  # final size (what a limit has to hold, without the connection set-up before the first byte
  # or the receiver's fsync and answer after the last).
  install -d -m 0750 "$W/backup/btrfs-send-backups/bench/bw"
  ( while :; do
      printf '%s %s\n' "$EPOCHREALTIME" "$(find "$W/backup/btrfs-send-backups/bench/bw" -type f -printf '%s\n' 2>/dev/null | awk '{t+=$1} END {print t+0}')"
      sleep 0.2
    done ) > "$W/usage/bw-samples" &
  BW_SAMPLER=$!
  measure "$PRODUCER" run --config "$W/conf/bw.conf"
  kill "$BW_SAMPLER"; wait "$BW_SAMPLER" 2>/dev/null || true
  read -r BW_BYTES BW_SECONDS < <(awk '{t[NR]=$1; b[NR]=$2; if ($2>m) m=$2}
    END { for (i=1;i<=NR;i++) { if (!lo && b[i] >= m*0.05) lo=i; if (b[i] <= m*0.95) hi=i }
          if (!lo || hi <= lo) { print 0, 0; exit } printf "%d %.3f\n", b[hi]-b[lo], t[hi]-t[lo] }' "$W/usage/bw-samples")
  [ "$BW_BYTES" -gt 0 ] || die "the BWLIMIT run's samples show no transfer (see $W/usage/bw-samples)"
  BW_LIMIT_MIB=$(numfmt --from=iec "$BWLIMIT_BENCH" | awk '{printf "%.2f", $1/1048576}')
  BW_RATE=$(awk -v b="$BW_BYTES" -v s="$BW_SECONDS" 'BEGIN{printf "%.2f", b/1048576/s}')
  BW_WHOLE=$(grep -o 'sent as [0-9]* encrypted bytes in [0-9.]* s' "$W/usage/stderr" | head -n 1 | awk '{printf "%.2f MiB/s (%s bytes in %s s)", $3/1048576/$7, $3, $7}' || true)
  BW_DEV=$(awk -v r="$BW_RATE" -v l="$BW_LIMIT_MIB" 'BEGIN{printf "%.1f", (r-l)/l*100}')
  log "  BWLIMIT=$BWLIMIT_BENCH: $BW_RATE MiB/s ($BW_DEV% off the limit)"
  rm -f "$W/backup/btrfs-send-backups/bench/bw/"*
  btrfs subvolume delete "$W/prod/@bw" >/dev/null
fi

# ---------- receiver start-up ----------
log "receiver start-up: ssh hello (sudo + receiver) vs ssh with a forced /bin/true, and locally"
REPS_SAVE=$REPS; REPS=10
best_of start_true noprep "${SSH[@]}" -i "$W/ssh/trivial" "$USER_NAME@127.0.0.1" -- true
best_of start_hello noprep "${SSH[@]}" -i "$W/ssh/client" "$USER_NAME@127.0.0.1" -- hello
HELLO_OUT=$("${SSH[@]}" -i "$W/ssh/client" "$USER_NAME@127.0.0.1" -- hello 2>/dev/null)
: > "$W/usage/recv.log"
for _ in $(seq 10); do "${SSH[@]}" -i "$W/ssh/client" "$USER_NAME@127.0.0.1" -- hello >/dev/null 2>&1; done
RECV_HELLO_WALL=$(sort -n "$W/usage/recv.log" | head -n 1 | cut -d' ' -f1)
best_of start_local noprep "$RECEIVER" serve --config "$W/conf/receiver.conf" --client bench -- hello
REPS=$REPS_SAVE
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------- report ----------
MiB=1048576
mibs() { awk -v b="$1" -v w="$2" 'BEGIN{ if (w<=0) w=0.01; printf "%.0f", b/1048576/w }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a<=0) a=0.01; printf "%.2f×", b/a }'; }   # ours wall a vs shell wall b → throughput ratio
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
row() {  # key label bytes ratio-text
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(mibs "$3" "${B_WALL[$1]}")" "${B_WALL[$1]}" "${B_CPU[$1]}" \
    "$(mib "${B_RSS[$1]}")" "${B_RCPU[$1]}" "$( [ "${B_RRSS[$1]}" -gt 0 ] && mib "${B_RRSS[$1]}" || echo —)" "$4"
}
met() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN{ if (b/a >= f) print "met"; else print "**MISSED**" }'; }
rssmet() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a/1024 < 64 && b/1024 < 64) print "met"; else print "**MISSED**" }'; }
SINK_NOTE="receiver side = the forced command's process (ours: \`btrfs-backup-receive serve\`, summed over the run's connections (one \`session\` for hello, list and the upload when the receiver offers it); shell: \`cat > file\`); sshd itself is not counted on either side"
out=$W/section.md
{
  echo "## Pipeline: ours vs the shell pipeline"
  echo
  echo "Run by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) with BENCH_SIZE=$SIZE BENCH_BIG_SIZE=$BIG, btrfs-send-backup $VERSION ($BUILD_DESC), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))," \
       "$(uname -r), $(gpg --version | head -n1), $(ssh -V 2>&1 | cut -d, -f1), ssh cipher ${BENCH_SSH_CIPHER:-default}." \
       "Everything on one machine: loop-mounted btrfs images (sparse files under /tmp), sshd on 127.0.0.1, so ssh, sshd and both ends share the 2 cores." \
       "**The machine is shared with other jobs** (load average at the start $LOAD_START, at the end $LOAD_END): wall-clock figures are noisy (±30% or worse); CPU seconds are the steadier comparison."
  echo
  if [ "$SIZE" != 2G ] || [ "$BIG" != 8G ]; then
    echo "**Sizes below the issue's 2 GiB / 8 GiB** (BENCH_SIZE=$SIZE, BENCH_BIG_SIZE=$BIG), chosen so that one run with best of $REPS finishes in about 15 minutes on this shared machine; rerun with the defaults for the issue's sizes."
    echo
  fi
  echo "Source: a btrfs subvolume of $SIZE: 70% in six large files (three random, three log-like text), 30% in small files of 0.5–48 KiB (half random, half text);" \
       "send stream $FULL_BYTES bytes. Incremental: ~10% changed (4% rewritten in place in the random files, 2% appended to the text files, 3% new small files, 1% deleted); send stream $INCR_BYTES bytes."
  echo "Best of $REPS by wall time per row, same run, same data (shell rows read the same content from a separate read-only snapshot). MiB/s = plain send-stream bytes / wall."
  echo "CPU s = user+sys from \`/usr/bin/time\` (wait4 rusage, so it includes the children: btrfs send, gpg, ssh client);" \
       "$SINK_NOTE, measured by a \`/usr/bin/time\` wrapper around it (for ours a root-owned wrapper between sudo and the receiver; the receiver itself is unmodified)." \
       "Peak RSS = ru_maxrss, the largest process of the tree (for ours the .NET process; btrfs and ssh stay at a few MiB)."
  echo "ssh ciphers: the shell rows use ssh's default (chacha20-poly1305 first), as the scripts run it; ours offers AES-GCM first on a CPU with AES instructions (its default, SSH_CIPHER in the man page)$( [ -n "${BENCH_SSH_CIPHER:-}" ] && echo "; this run forced $BENCH_SSH_CIPHER on every row")."
  echo "The shell rows' sink is a second key in the ingest user's authorized_keys whose forced command is \`cat > file\` (what \`ssh ... 'cat > file'\` runs), over the same sshd with the producer's ssh options."
  echo
  echo "| row | MiB/s | wall s | CPU s near | peak RSS MiB near | CPU s far | peak RSS MiB far | ours/shell |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  row full_null 'full: limit `btrfs send > /dev/null`' "$FULL_BYTES" ""
  row full_ssh 'full: limit `btrfs send \| ssh cat`' "$FULL_BYTES" ""
  row full_gpg 'full: shell scripts `btrfs send \| gpg --symmetric --cipher-algo AES256 \| ssh`' "$FULL_BYTES" ""
  row full_gpgnone 'full: tuned, `--compress-algo none`' "$FULL_BYTES" ""
  row full_ours 'full: **ours** `btrfs-send-backup run` → receiver' "$FULL_BYTES" "$(ratio "${B_WALL[full_ours]}" "${B_WALL[full_gpgnone]}") tuned, $(ratio "${B_WALL[full_ours]}" "${B_WALL[full_gpg]}") scripts'"
  [ -n "${BENCH_BASELINE:-}" ] && row full_base 'full: baseline build (BENCH_BASELINE)' "$FULL_BYTES" "$(ratio "${B_WALL[full_base]}" "${B_WALL[full_gpgnone]}") tuned"
  row incr_null 'incr: limit `btrfs send -p > /dev/null`' "$INCR_BYTES" ""
  row incr_ssh 'incr: limit `btrfs send -p \| ssh cat`' "$INCR_BYTES" ""
  row incr_gpg 'incr: shell scripts, gpg defaults' "$INCR_BYTES" ""
  row incr_gpgnone 'incr: tuned, `--compress-algo none`' "$INCR_BYTES" ""
  row incr_ours 'incr: **ours**' "$INCR_BYTES" "$(ratio "${B_WALL[incr_ours]}" "${B_WALL[incr_gpgnone]}") tuned, $(ratio "${B_WALL[incr_ours]}" "${B_WALL[incr_gpg]}") scripts'"
  [ -n "${BENCH_BASELINE:-}" ] && row incr_base 'incr: baseline build (BENCH_BASELINE)' "$INCR_BYTES" "$(ratio "${B_WALL[incr_base]}" "${B_WALL[incr_gpgnone]}") tuned"
  row restore_gpg 'restore: `gpg --decrypt \| btrfs receive`, per link' "$((FULL_BYTES + INCR_BYTES))" ""
  row restore_ours 'restore: **ours** `btrfs-send-backup restore --from`' "$((FULL_BYTES + INCR_BYTES))" "$(ratio "${B_WALL[restore_ours]}" "${B_WALL[restore_gpg]}")"
  echo
  echo "Stored bytes of the full: ours $OURS_FULL_STORED, scripts' gpg defaults $GPG_DEFAULT_BYTES (plain $FULL_BYTES). Restore: near = everything on the restoring host, btrfs receive included; checked: received_uuid and \`diff -r\` against the source snapshot."
  echo
  echo "Targets (same run):"
  echo "- full ≥ 1.1× tuned: $(met "${B_WALL[full_ours]}" "${B_WALL[full_gpgnone]}" 1.1)"
  echo "- incremental ≥ 1.2× tuned: $(met "${B_WALL[incr_ours]}" "${B_WALL[incr_gpgnone]}" 1.2)"
  echo "- restore ≥ 1.2× gpg: $(met "${B_WALL[restore_ours]}" "${B_WALL[restore_gpg]}" 1.2)"
  echo "- receiver CPU per GiB ≤ 1.5× \`cat > file\` (full, far side: ours ${B_RCPU[full_ours]} s, the tuned row's \`cat > file\` ${B_RCPU[full_gpgnone]} s, $(awk -v a="${B_RCPU[full_ours]}" -v b="${B_RCPU[full_gpgnone]}" 'BEGIN{ if (b<=0) b=0.01; printf "%.2f×", a/b }')): $(awk -v a="${B_RCPU[full_ours]}" -v b="${B_RCPU[full_gpgnone]}" 'BEGIN{ if (b<=0) b=0.01; print (a/b <= 1.5) ? "met" : "**MISSED**" }')"
  if [ -n "$BW_RATE" ]; then
    echo "- BWLIMIT=$BWLIMIT_BENCH within ±5% over a 1 GiB send: $BW_BYTES bytes arrived in $BW_SECONDS s between 5% and 95% of the stream = $BW_RATE MiB/s against $BW_LIMIT_MIB MiB/s, $BW_DEV% off: $(awk -v d="$BW_DEV" 'BEGIN{ if (d < 0) d = -d; print (d <= 5) ? "met" : "**MISSED**" }') (the producer's own figure for the whole send stage, connection to answer: $BW_WHOLE)"
  fi
  echo
  stage() { grep -o 'backup OK: .* in [0-9.]* s' "$W/usage/best-$1.err" | head -n 1 | awk '{print $(NF-1)}' || true; }
  FS=$(stage full_ours); IS=$(stage incr_ours)
  echo "### Where the time goes"
  echo
  echo "Send stage of ours (from the producer's own \`backup OK ... in N s\` line: btrfs send → validate → encrypt → ssh → receiver stores, fsyncs and answers):" \
       "full $FS s of ${B_WALL[full_ours]} s, incremental $IS s of ${B_WALL[incr_ours]} s; the rest is fixed per-run cost (process start-up, config and prerequisite checks," \
       "one ssh connection each for \`hello\` and \`list\` before the stream's own connection, snapshot, state file, local prune)." \
       "Send stage vs the tuned pipeline: full $(awk -v a="$FS" -v b="${B_WALL[full_gpgnone]}" 'BEGIN{printf "%.2f×", b/a}'), incremental $(awk -v a="$IS" -v b="${B_WALL[incr_gpgnone]}" 'BEGIN{printf "%.2f×", b/a}')." \
       "The limit row \`btrfs send | ssh cat\` took ${B_WALL[full_ssh]} s (the tuned pipeline ${B_WALL[full_gpgnone]} s): loopback ssh, with client and sshd on the same 2 cores, is in every row that crosses it." \
       "Far side CPU: the receiver hashes (SHA-256), validates framing, writes and fsyncs into btrfs (${B_RCPU[full_ours]} s for the full) where \`cat > file\` only copies (${B_RCPU[full_gpgnone]} s) — both on the same 2 cores as the producer."
  echo
  gib() { awk -v c="$1" -v b="$2" 'BEGIN{printf "%.1f", c/(b/1073741824)}'; }
  echo "CPU seconds per GiB of send stream, full (near = producer side, far = forced command): limit \`btrfs send | ssh cat\` $(gib "${B_CPU[full_ssh]}" "$FULL_BYTES") near + $(gib "${B_RCPU[full_ssh]}" "$FULL_BYTES") far;" \
       "tuned gpg $(gib "${B_CPU[full_gpgnone]}" "$FULL_BYTES") + $(gib "${B_RCPU[full_gpgnone]}" "$FULL_BYTES");" \
       "ours $(gib "${B_CPU[full_ours]}" "$FULL_BYTES") + $(gib "${B_RCPU[full_ours]}" "$FULL_BYTES")$( [ -n "${BENCH_BASELINE:-}" ] && echo "; baseline build $(gib "${B_CPU[full_base]}" "$FULL_BYTES") + $(gib "${B_RCPU[full_base]}" "$FULL_BYTES")")."
  echo
  echo "Run phases of ours (the producer's own \`run phases\` line): full: $(grep -o 'run phases: .*' "$W/usage/best-full_ours.err" | cut -d: -f2- || true);" \
       "incremental: $(grep -o 'run phases: .*' "$W/usage/best-incr_ours.err" | cut -d: -f2- || true)."
  echo
  if [ "$PROFILE" = 1 ] && [ -s "$W/usage/perf-comm.txt" ]; then
    echo "Profile of one more full run of ours (\`perf record -F 499\`, producer process tree only: the .NET threads, \`btrfs send\` (its CPU is mostly kernel), the ssh client; sshd and the receiver are not in it). Share of samples by thread name and object:"
    echo
    echo '```text'
    cat "$W/usage/perf-comm.txt"
    echo '```'
    echo
    echo "Top symbols:"
    echo
    echo '```text'
    cat "$W/usage/perf-sym.txt"
    echo '```'
    echo
  fi
  echo "Producer log of the best full run (timestamps show the stages):"
  echo
  echo '```text'
  grep -E '^[0-9]{4}-' "$W/usage/best-full_ours.err" | sed -E 's/, sha256 [0-9a-f]+//' | cut -c1-200 | head -n 30
  echo '```'
  echo
  if [ "$PROFILE" = 1 ] && [ -s "$W/usage/perf-restore-comm.txt" ]; then
    echo "Profile of one more restore of ours (\`perf record -F 499\`: the .NET threads and \`btrfs receive\`). Share of samples by thread name and object, then top symbols:"
    echo
    echo '```text'
    cat "$W/usage/perf-restore-comm.txt"
    echo
    cat "$W/usage/perf-restore-sym.txt"
    echo '```'
    echo
  fi
  echo "Restore log of ours (best run):"
  echo
  echo '```text'
  grep -E '^[0-9]{4}-' "$W/usage/best-restore_ours.err" | cut -c1-200 | head -n 20
  echo '```'
  echo
  echo "## Peak RSS"
  echo
  echo "| stream | producer peak RSS MiB | receiver peak RSS MiB | wall s | producer-side CPU s |"
  echo "|---|---:|---:|---:|---:|"
  echo "| full, $SIZE mixed (best run above) | $(mib "${B_RSS[full_ours]}") | $(mib "${B_RRSS[full_ours]}") | ${B_WALL[full_ours]} | ${B_CPU[full_ours]} |"
  [ "$BIG_B" -gt 0 ] && echo "| full, $BIG incompressible (one run, stored $BIG_STORED bytes) | $(mib "$BIG_RSS") | $(mib "$BIG_RRSS") | $BIG_WALL | $BIG_CPU |"
  echo "| restore of the $SIZE chain | $(mib "${B_RSS[restore_ours]}") | — | ${B_WALL[restore_ours]} | ${B_CPU[restore_ours]} |"
  echo
  echo "Target (< 64 MiB for producer and receiver at 2 and 8 GiB, flat): $(rssmet "$(( ${B_RSS[full_ours]} > BIG_RSS ? ${B_RSS[full_ours]} : BIG_RSS ))" "$(( ${B_RRSS[full_ours]} > BIG_RRSS ? ${B_RRSS[full_ours]} : BIG_RRSS ))") (sizes run: $SIZE$( [ "$BIG_B" -gt 0 ] && echo " and $BIG" || echo "; the large run was skipped (BENCH_BIG_SIZE=0)"))."
  echo
  echo "## Receiver start-up over ssh"
  echo
  echo "Method: best of 10 of \`ssh ... hello\` with the ingest key (sshd → forced command → \`sudo -n\` → usage wrapper → \`btrfs-backup-receive serve -- hello\` → answer) minus best of 10 of \`ssh ...\` with a key whose forced command is \`/bin/true\` (same sshd, same options);" \
       "that difference is sshd exec → sudo → receiver ready → answer, i.e. an upper bound on exec → first byte read. Also the receiver process's own wall time for \`hello\` as its wrapper saw it, and \`serve -- hello\` run locally without ssh/sudo. Build: $BUILD_DESC."
  echo
  echo "| what | best wall ms |"
  echo "|---|---:|"
  echo "| ssh, forced \`/bin/true\` | $(awk -v w="${B_WALL[start_true]}" 'BEGIN{printf "%.0f", w*1000}') |"
  echo "| ssh, forced receiver \`hello\` | $(awk -v w="${B_WALL[start_hello]}" 'BEGIN{printf "%.0f", w*1000}') |"
  echo "| difference: sudo + receiver start-up + answer | $(awk -v a="${B_WALL[start_hello]}" -v b="${B_WALL[start_true]}" 'BEGIN{printf "%.0f", (a-b)*1000}') |"
  echo "| receiver process alone (exec → exit), under sshd | $(awk -v w="$RECV_HELLO_WALL" 'BEGIN{printf "%.0f", w*1000}') |"
  echo "| \`btrfs-backup-receive serve -- hello\` locally | $(awk -v w="${B_WALL[start_local]}" 'BEGIN{printf "%.0f", w*1000}') |"
  echo
  echo "hello answered: \`$HELLO_OUT\`. /usr/bin/time has 10 ms resolution."
  echo
} > "$out"
cat "$out"
doc=$ROOT/docs/benchmarks.md
[ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
# Replace our sections (each up to the next "## " heading that is not ours), keep everything else.
awk -v section="$out" '
  BEGIN { while ((getline line < section) > 0) text = text line "\n" }
  /^## (Pipeline: ours vs the shell pipeline|Peak RSS|Receiver start-up over ssh)$/ { skipping = 1; if (!done) { printf "%s", text; done = 1 }; next }
  skipping && /^## / { skipping = 0 }
  !skipping { print }
  END { if (!done) printf "\n%s", text }
' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
us=$(( ${EPOCHREALTIME/./} - T0 ))
log "done in $((us / 1000000)) s; wrote $doc"
