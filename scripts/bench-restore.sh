#!/usr/bin/env bash
# scripts/bench-restore.sh — restore alone: `btrfs-send-backup restore --from DIR` against
# `gpg --decrypt | btrfs receive` and the limit `btrfs receive -f PLAIN`, same stored file, runs
# interleaved round by round so a shared machine's load hits every row alike. Run as root; the
# test bed is scripts/lib/testbed.sh (private mount namespace, torn down on exit).
#
#   BENCH_SIZE      source size (default 1G, bench.sh's mixed data); one full backup is made by ours
#   BENCH_REPEAT    rounds (default 3)
#   BENCH_PRODUCERS space-separated btrfs-send-backup binaries to compare (default: this tree's
#                   Release build); each gets a row, e.g. a copy of the previous commit's build first;
#                   the last one makes the backup
#   BENCH_RECEIVER  the receiver the backup goes through (default: this tree's Release build)
#
# Prints one line per run (wall, user+sys CPU of the whole tree, peak RSS) and the best per row;
# also gpg --decrypt > /dev/null against our verify (decryption and checks alone, no btrfs receive).
set -Eeuo pipefail
export LC_ALL=C
SELF=$(readlink -f "$0")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)

log() { printf '[bench-restore %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

. "$ROOT/scripts/lib/testbed.sh"
testbed_enter bench-restore python3 /usr/bin/time numfmt -- "$@"

SIZE=${BENCH_SIZE:-1G}
REPS=${BENCH_REPEAT:-3}
SIZE_B=$(numfmt --from=iec "$SIZE")
export BTRFS_SEND_LOG_LEVEL=info

testbed_init bench-restore
log "BENCH_SIZE=$SIZE BENCH_REPEAT=$REPS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${BENCH_PRODUCERS:-}" ]; then
  testbed_build
  BENCH_PRODUCERS=$PRODUCER
fi
RECEIVER=${BENCH_RECEIVER:-$ROOT/src/BtrfsSend.Receiver/bin/Release/net10.0/btrfs-backup-receive}
[ -x "$RECEIVER" ] || die "no receiver at $RECEIVER (build the tree first, or set BENCH_RECEIVER)"
read -r -a PRODUCERS <<< "$BENCH_PRODUCERS"
PRODUCER=${PRODUCERS[-1]}
for p in "${PRODUCERS[@]}"; do [ -x "$p" ] || die "BENCH_PRODUCERS: $p is not an executable"; done

GiB=$((1 << 30))
testbed_mkfs prod $(( SIZE_B * 2 + GiB ))
testbed_mkfs backup $(( SIZE_B * 3 + GiB ))
testbed_mkfs restore $(( SIZE_B * 2 + GiB ))
mkdir -p "$W/prod/@backup-snapshots" "$W/backup/btrfs-send-backups" "$W/usage" "$W/bin"

# The data: bench.sh's generator (mixed large and small files, half incompressible).
sed -n "/^cat > \"\$W\/bin\/gen.py\" <<'PY'$/,/^PY$/p" "$ROOT/scripts/bench.sh" | sed '1d;$d' > "$W/bin/gen.py"
[ -s "$W/bin/gen.py" ] || die "cannot extract the data generator from scripts/bench.sh"
btrfs subvolume create "$W/prod/@src" >/dev/null
log "generating $SIZE of mixed data"
python3 "$W/bin/gen.py" full "$W/prod/@src" "$SIZE_B" >&2
sync

testbed_ingest bench-restore-sshd "$W/backup/btrfs-send-backups" client
testbed_receiver_key client "$RECEIVER" bench
testbed_sshd 22500
cat > "$W/conf/data.conf" <<CONF
SOURCE_TOP=$W/prod
SOURCE_SUBVOL=@src
SNAPSHOT_DIR=$W/prod/@backup-snapshots
SNAPSHOT_PREFIX=data
STATE_FILE=$W/state/data
BACKUP_SSH_TARGET=$USER_NAME@127.0.0.1
BACKUP_SSH_PORT=$PORT
BACKUP_SSH_IDENTITY_FILE=$W/ssh/client
BACKUP_SET=bench/data
PASSPHRASE_FILE=$W/conf/passphrase
BACKUP_MODE=encrypted-stream
LOCK_FILE=$W/state/data.lock
SERVICES_TO_QUIESCE=()
SSH_OPTIONS=(HostKeyAlias=bench-restore-sshd StrictHostKeyChecking=yes UserKnownHostsFile=$W/ssh/known_hosts GlobalKnownHostsFile=/dev/null)
CONF
chmod 0600 "$W/conf/data.conf"
log "one full backup by $PRODUCER"
"$PRODUCER" run --config "$W/conf/data.conf" 2>&1 | grep -o 'backup OK: .*' | sed 's/, sha256.*//' >&2
SNAP=$(cat "$W/state/data")
SET_DIR=$W/backup/btrfs-send-backups/bench/data
STORED=$SET_DIR/$SNAP.full.btrfs.gpg
btrfs send -q "$W/prod/@backup-snapshots/$SNAP" > "$W/backup/plain"
PLAIN_BYTES=$(stat -c %s "$W/backup/plain")
log "stored $(stat -c %s "$STORED") bytes, plain send stream $PLAIN_BYTES bytes"
export GNUPGHOME=$W/gnupg
GPG="gpg --batch --quiet --pinentry-mode loopback --passphrase-file $W/conf/passphrase"

clear_restore() {
  for s in "$W/restore"/*/; do [ -d "$s" ] && btrfs subvolume delete -c "$s" >/dev/null; done
  btrfs subvolume sync "$W/restore" >/dev/null 2>&1 || true
  sync
}
declare -A BEST
run_row() {  # LABEL CMD...
  local label=$1; shift
  clear_restore
  /usr/bin/time -o "$W/usage/t" -f '%e %U %S %M' "$@" > /dev/null 2> "$W/usage/err" || { cat "$W/usage/err" >&2; die "$label failed"; }
  read -r wall usr sys rss < "$W/usage/t"
  printf '%-40s wall %6.2f s  cpu %6.2f s (user %.2f sys %.2f)  rss %d MiB\n' "$label" "$wall" "$(awk -v u="$usr" -v s="$sys" 'BEGIN{print u+s}')" "$usr" "$sys" $((rss / 1024))
  if [ -z "${BEST[$label]:-}" ] || awk -v a="$wall" -v b="${BEST[$label]%% *}" 'BEGIN{exit !(a<b)}'; then
    BEST[$label]="$wall $(awk -v u="$usr" -v s="$sys" 'BEGIN{print u+s}')"
  fi
}
rounds() {
  local r i p
  BEST=()
  for r in $(seq "$REPS"); do
    log "round $r"
    run_row "limit: btrfs receive -f plain" btrfs receive -q -f "$W/backup/plain" "$W/restore"
    run_row "gpg --decrypt | btrfs receive" bash -c "set -o pipefail; $GPG --decrypt '$STORED' | btrfs receive -q '$W/restore'"
    i=0
    for p in "${PRODUCERS[@]}"; do
      i=$((i + 1))
      run_row "ours #$i restore --from" "$p" restore --config "$W/conf/data.conf" --set bench/data --snapshot "$SNAP" \
        --from "$W/backup/btrfs-send-backups" --passphrase-file "$W/conf/passphrase" --to "$W/restore"
      [ "$(btrfs subvolume show "$W/restore/$SNAP" | awk '$1=="Received"{print $3}')" = "$(btrfs subvolume show "$W/prod/@backup-snapshots/$SNAP" | awk '$1=="UUID:"{print $2}')" ] \
        || die "restored $SNAP has the wrong received_uuid"
      [ "$r" != 1 ] || diff -rq "$W/prod/@backup-snapshots/$SNAP" "$W/restore/$SNAP" >/dev/null || die "restored $SNAP differs from its source"
    done
    # Decryption alone (no btrfs receive, whose kernel time varies most): gpg to /dev/null against
    # our verify (the same read, SHA-256, decryption, MDC and send-stream validation as restore).
    run_row "gpg --decrypt > /dev/null" bash -c "$GPG --decrypt '$STORED' > /dev/null"
    i=0
    for p in "${PRODUCERS[@]}"; do
      i=$((i + 1))
      run_row "ours #$i verify --from" "$p" verify --config "$W/conf/data.conf" --set bench/data --snapshot "$SNAP" \
        --from "$W/backup/btrfs-send-backups" --passphrase-file "$W/conf/passphrase"
    done
  done
  i=0
  for p in "${PRODUCERS[@]}"; do i=$((i + 1)); log "ours #$i = $p"; done
  log "best of $REPS by wall (wall s, CPU s), $PLAIN_BYTES bytes of send stream:"
  for k in "${!BEST[@]}"; do printf '  %-40s %s\n' "$k" "${BEST[$k]}"; done | sort >&2
  if [ "${BENCH_PERF:-0}" = 1 ]; then
    log "one more restore by $PRODUCER under perf record, by thread and object, then top symbols"
    clear_restore
    local maps_before m
    maps_before=$(ls /tmp/perf-*.map 2>/dev/null || true)
    DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -F 499 -o "$W/usage/perf.data" -- "$PRODUCER" restore --config "$W/conf/data.conf" \
      --set bench/data --snapshot "$SNAP" --from "$W/backup/btrfs-send-backups" --passphrase-file "$W/conf/passphrase" --to "$W/restore" > /dev/null 2>&1
    perf report -i "$W/usage/perf.data" --stdio --sort comm,dso 2>/dev/null | grep -E '^ +[0-9]' | head -n 14 >&2 || true
    perf report -i "$W/usage/perf.data" --stdio --sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -n 25 | cut -c1-150 >&2 || true
    for m in $(ls /tmp/perf-*.map 2>/dev/null || true); do grep -qxF "$m" <<< "$maps_before" || rm -f "$m"; done
    rm -f "$W/usage/perf.data"
  fi
}
rounds
# BENCH_HOLD=1: keep the test bed; write a line of producer paths into $W/go to run the rounds again, touch $W/stop to end.
if [ "${BENCH_HOLD:-0}" = 1 ]; then
  log "holding $W: echo PRODUCERS > $W/go, or touch $W/stop"
  while [ ! -e "$W/stop" ]; do
    if [ -s "$W/go" ]; then
      read -r -a PRODUCERS < "$W/go"; PRODUCER=${PRODUCERS[-1]}; rm -f "$W/go"
      rounds
    fi
    sleep 2
  done
fi
