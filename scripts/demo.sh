#!/usr/bin/env bash
# scripts/demo.sh — the whole cycle as users run it, as root on a fresh machine, in a temp
# dir; tears down everything it made, also when interrupted (Ctrl-C, SIGTERM).
#
# Builds both programs; creates loop-mounted btrfs images "prod" (a @rootfs subvolume with
# sample files) and "backup"; starts a private sshd on 127.0.0.1 whose authorized_keys forces
# `sudo -n btrfs-backup-receive serve -- "$SSH_ORIGINAL_COMMAND"` for a dedicated ingest user
# (as in production, nothing bypassed); runs btrfs-send-backup three times with changes in
# between (full, incremental, incremental); prunes; restores the latest snapshot's chain with
# nothing but gpg and btrfs receive into a fresh filesystem and compares every file; runs check;
# prints a short summary (what was sent, sizes, speeds, what was kept, restore OK).
set -Eeuo pipefail
export LC_ALL=C
SELF=$(readlink -f "$0")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)

log() { printf '[demo %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# The test bed (private mount namespace, loop btrfs, ingest user, sudo, sshd): scripts/lib/testbed.sh.
. "$ROOT/scripts/lib/testbed.sh"
testbed_enter demo -- "$@"
testbed_init demo

t0=${EPOCHREALTIME/./}
testbed_build
log "btrfs-send-backup $("$PRODUCER" --version)"
t1=${EPOCHREALTIME/./}   # the issue's budget (under 60 s) counts from here, after the build
SUMMARY=()

log "loop-mounted btrfs: prod, backup, restore (under $W)"
testbed_mkfs prod 512M
testbed_mkfs backup 512M
testbed_mkfs restore 512M
btrfs subvolume create "$W/prod/@rootfs" >/dev/null
mkdir -p "$W/prod/@backup-snapshots" "$W/backup/btrfs-send-backups"
R=$W/prod/@rootfs
mkdir -p "$R/etc" "$R/var/lib/app" "$R/dir with spaces"
echo demo-host > "$R/etc/hostname"
ln "$R/etc/hostname" "$R/etc/hostname.hardlink"
ln -s ../etc/hostname "$R/var/link"
head -c 32M /dev/urandom > "$R/var/lib/app/data.bin"
seq 1 2000000 > "$R/var/lib/app/numbers.txt"
printf 'quote"s\n' > "$R/dir with spaces/file \$x;'q'.txt"
truncate -s 20M "$R/var/sparse.img"
chown 1234:5678 "$R/etc/hostname"

log "backup-srv: ingest user $USER_NAME, sudo pinned to 'serve', private sshd on 127.0.0.1"
testbed_ingest demo-sshd "$W/backup/btrfs-send-backups" client
testbed_receiver_key client "$RECEIVER" prod-srv
testbed_sshd 22300

log "prod-srv: passphrase file and prod.conf (the keys of prod-btrfs-backup.sh)"
cat > "$W/conf/prod.conf" <<CONF
SOURCE_TOP=$W/prod
SOURCE_SUBVOL=@rootfs
SNAPSHOT_DIR=$W/prod/@backup-snapshots
SNAPSHOT_PREFIX=prod-srv-rootfs
STATE_FILE=$W/state/last-sent
BACKUP_SSH_TARGET=$USER_NAME@127.0.0.1
BACKUP_SSH_PORT=$PORT
BACKUP_SSH_IDENTITY_FILE=$W/ssh/client
BACKUP_SET=prod-srv/rootfs
PASSPHRASE_FILE=$W/conf/passphrase
BACKUP_MODE=encrypted-stream
FULL_INTERVAL_DAYS=32
LOCAL_KEEP_DAILY=7
SERVICES_TO_QUIESCE=()
SSH_OPTIONS=(HostKeyAlias=demo-sshd StrictHostKeyChecking=yes UserKnownHostsFile=$W/ssh/known_hosts GlobalKnownHostsFile=/dev/null)
CONF
chmod 0600 "$W/conf/prod.conf"

run_backup() {
  sleep 1   # snapshot names have one-second resolution
  local t=${EPOCHREALTIME/./}
  # In the background + wait, so that a SIGTERM to this script is handled at once, not after the run.
  "$PRODUCER" --config "$W/conf/prod.conf" 2> "$W/run.log" &
  CHILD=$!
  wait "$CHILD" || { CHILD=; cat "$W/run.log" >&2; die "btrfs-send-backup run $1 failed"; }
  CHILD=
  local ms=$(( (${EPOCHREALTIME/./} - t) / 1000 ))
  local line
  line=$(grep -o 'backup OK: .*' "$W/run.log" | sed 's/, sha256.*//')
  log "run $1: $line [${ms} ms wall]"
  SUMMARY+=("run $1: $(printf '%s' "$line" | sed -E 's/^backup OK: set [^ ]+ //')")
}
run_backup 1
log "change: append to a file, delete one, add 8 MiB"
echo "changed" >> "$R/etc/hostname"; rm "$R/dir with spaces/file \$x;'q'.txt"; head -c 8M /dev/urandom > "$R/var/lib/app/new.bin"
run_backup 2
log "change: rewrite 4 MiB in place"
dd if=/dev/urandom of="$R/var/lib/app/data.bin" bs=1M count=4 seek=8 conv=notrunc status=none
run_backup 3

log "backup-srv: what is stored (root-owned 0400 files + manifests)"
SET_DIR=$W/backup/btrfs-send-backups/prod-srv/rootfs
stat -c '  %A %U:%G %8s %n' "$SET_DIR"/*.btrfs.gpg | sed "s|$SET_DIR/||" >&2
"$PRODUCER" status --config "$W/conf/prod.conf" 2>/dev/null | sed 's/^/  /' >&2
log "prune --dry-run (the server's KEEP_* policy, received_at, ancestors kept)"
"$RECEIVER" prune --config "$W/conf/receiver.conf" --set prod-srv/rootfs --dry-run 2>/dev/null > "$W/prune.txt"
sed 's/^/  /' "$W/prune.txt" >&2
"$RECEIVER" prune --config "$W/conf/receiver.conf" --set prod-srv/rootfs 2>/dev/null

log "restore the latest chain with nothing but gpg and btrfs receive, into a fresh filesystem"
export GNUPGHOME=$W/gnupg
for f in $(ls "$SET_DIR"/*.btrfs.gpg | sort); do
  gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$W/conf/passphrase" --decrypt "$f" | btrfs receive -q "$W/restore"
done
latest=$(cat "$W/state/last-sent")
# scripts/lib/treedump.py: one line per entry, the subvolume root included: raw path bytes, type,
# mode, owner, size, hard-link group, mtime in ns, symlink target, device numbers, every xattr
# (ACLs included), SHA-256 and the data/hole map; the test suite compares restores with it too.
# One documented btrfs send limit (docs/fidelity.md): an incremental stream does not carry the
# subvolume root's own mtime, so that one field of line 1 (path=.) is left out, nothing else.
python3 "$ROOT/scripts/lib/treedump.py" "$W/prod/@backup-snapshots/$latest" | sed '1s/ mtime=[^ ]*//' > "$W/tree.source"
python3 "$ROOT/scripts/lib/treedump.py" "$W/restore/$latest" | sed '1s/ mtime=[^ ]*//' > "$W/tree.restored"
diff "$W/tree.source" "$W/tree.restored" >&2 || die "restored $latest differs from its source (treedump.py lines above)"
su=$(btrfs subvolume show "$W/prod/@backup-snapshots/$latest" | awk '$1=="UUID:"{print $2}')
ru=$(btrfs subvolume show "$W/restore/$latest" | awk '$1=="Received"{print $3}')
[ "$su" = "$ru" ] || die "received_uuid $ru != source uuid $su"
log "restore OK: $latest identical to its source ($(wc -l < "$W/tree.restored") entries compared by every attribute treedump.py dumps), received_uuid matches"

log "check (Nagios plugin, with --verify-data)"
"$RECEIVER" check --config "$W/conf/receiver.conf" --max-age 26h --verify-data 2>/dev/null | head -n 1 | cut -c1-160 | sed 's/^/  /' >&2
secs() { local us=$(( ${EPOCHREALTIME/./} - $1 )); printf '%d.%03d' $((us / 1000000)) $(( us % 1000000 / 1000 )); }
{
  echo "summary"
  printf '  sent    %s\n' "${SUMMARY[@]}"
  echo "  pruned  KEEP_DAILY=7 KEEP_WEEKLY=4 KEEP_MONTHLY=12: $(sed -n 's/^# set [^:]*: would \(keep [0-9]*, delete [0-9]*\).*/\1/p' "$W/prune.txt")"
  echo "  stored  $(ls "$SET_DIR"/*.btrfs.gpg | wc -l) stream(s), $(cat "$SET_DIR"/*.btrfs.gpg | wc -c) bytes on backup-srv"
  echo "  restore OK: $latest, $(wc -l < "$W/tree.restored") entries identical to the source snapshot (root mtime aside, docs/fidelity.md)"
} >&2
log "demo passed in $(secs "$t1")s after the build ($(secs "$t0")s in all)"
