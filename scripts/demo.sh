#!/usr/bin/env bash
# scripts/demo.sh — see it work, as root on a fresh machine, in a temp dir; tears down
# everything it made, also when interrupted.
#
# Today (foundation stage) it: builds both programs, shows their --help, creates two
# loop-mounted btrfs images ("prod" with a @rootfs subvolume of sample files, "backup"),
# takes read-only snapshots, sends a full and an incremental stream with btrfs send |
# btrfs receive, and compares the received trees with the sources (every file's path, type,
# mode, owner, size, link count, mtime, symlink target and SHA-256; received_uuid; ro).
# Later stages replace the plain send|receive with btrfs-send-backup → btrfs-backup-receive.
set -Eeuo pipefail
export LC_ALL=C
SELF=$(readlink -f "$0")
ROOT=$(dirname "$SELF")/..

log() { printf '[demo %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

if [ -z "${DEMO_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || die "run as root (loop mounts need it)"
  for c in mkfs.btrfs btrfs losetup unshare; do
    command -v "$c" >/dev/null || { log "installing btrfs-progs"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq btrfs-progs util-linux >/dev/null; break; }
  done
  # Private mount namespace: our mounts are invisible to others and vanish with us, even on SIGKILL.
  exec unshare --mount --propagation private env DEMO_INNER=1 "$SELF" "$@"
fi

W=$(mktemp -d /tmp/btrfs-send-demo.XXXXXX)
teardown() {
  set +e
  for m in $(findmnt -rn -o TARGET | grep "^$W/" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
  for img in "$W"/*.img; do
    [ -e "$img" ] || continue
    for d in $(losetup -n -O NAME -j "$img"); do losetup -d "$d" 2>/dev/null; done
  done
  if [ -z "$(findmnt -rn -o TARGET | grep "^$W/")" ]; then rm -rf --one-file-system "$W"; fi
}
trap 'rc=$?; trap - EXIT; teardown; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$EPOCHREALTIME
log "building"
dotnet build "$ROOT/BtrfsSend.sln" -c Release --nologo -v q >/dev/null
BIN=$ROOT/src/BtrfsSend.Producer/bin/Release/net10.0
RBIN=$ROOT/src/BtrfsSend.Receiver/bin/Release/net10.0
"$BIN/btrfs-send-backup" --version >/dev/null
log "btrfs-send-backup $("$BIN/btrfs-send-backup" --version), btrfs-backup-receive $("$RBIN/btrfs-backup-receive" --version)"
"$BIN/btrfs-send-backup" --help | sed -n '1,3p'
"$RBIN/btrfs-backup-receive" --help | sed -n '1,3p'

mkfs_mount() {
  truncate -s 256M "$W/$1.img"
  mkfs.btrfs -q -f -L "demo-$1" "$W/$1.img" >/dev/null
  mkdir -p "$W/$1"
  mount -o loop "$W/$1.img" "$W/$1"
}
log "creating loop-mounted btrfs images prod and backup under $W"
mkfs_mount prod
mkfs_mount backup
btrfs subvolume create "$W/prod/@rootfs" >/dev/null
mkdir -p "$W/prod/@backup-snapshots" "$W/backup/restore"
R=$W/prod/@rootfs
mkdir -p "$R/etc" "$R/var/lib/app" "$R/dir with spaces"
echo demo-host > "$R/etc/hostname"
ln "$R/etc/hostname" "$R/etc/hostname.hardlink"
ln -s ../etc/hostname "$R/var/link"
head -c 4M /dev/urandom > "$R/var/lib/app/data.bin"
seq 1 200000 > "$R/var/lib/app/numbers.txt"
printf 'quote"s\n' > "$R/dir with spaces/file \$x;'q'.txt"
truncate -s 20M "$R/var/sparse.img"

snap() { btrfs subvolume snapshot -r "$R" "$W/prod/@backup-snapshots/prod-srv-rootfs-$1" >/dev/null; }
log "snapshot 1, full send | receive"
s1=$(date -u +%Y%m%dT%H%M%SZ); snap "$s1"
btrfs send -q "$W/prod/@backup-snapshots/prod-srv-rootfs-$s1" | btrfs receive -q "$W/backup/restore"
log "change data, snapshot 2, incremental send | receive"
echo changed >> "$R/etc/hostname"; rm "$R/dir with spaces/file \$x;'q'.txt"; head -c 1M /dev/urandom > "$R/var/lib/app/new.bin"
sleep 1; s2=$(date -u +%Y%m%dT%H%M%SZ); snap "$s2"
btrfs send -q -p "$W/prod/@backup-snapshots/prod-srv-rootfs-$s1" "$W/prod/@backup-snapshots/prod-srv-rootfs-$s2" | btrfs receive -q "$W/backup/restore"

# The subvolume's own root directory is left out (-mindepth 1): an incremental receive starts
# from a fresh snapshot of the parent and btrfs send emits no utimes for an unchanged root,
# so its mtime is the receive time, not the source's.
manifest() {
  ( cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%U:%G|%s|%n|%T@|%l\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum )
}
for s in "$s1" "$s2"; do
  name=prod-srv-rootfs-$s
  diff <(manifest "$W/prod/@backup-snapshots/$name") <(manifest "$W/backup/restore/$name") >&2 || die "$name differs from its source"
  su=$(btrfs subvolume show "$W/prod/@backup-snapshots/$name" | awk '$1=="UUID:"{print $2}')
  ru=$(btrfs subvolume show "$W/backup/restore/$name" | awk '$1=="Received"{print $3}')
  [ "$su" = "$ru" ] || die "$name: received_uuid $ru != source uuid $su"
  [ "$(btrfs property get -ts "$W/backup/restore/$name" ro)" = "ro=true" ] || die "$name is not read-only"
  log "OK $name: identical to its source (every file, owner, mode, mtime, hash), received_uuid matches, read-only"
done
us=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
log "demo passed in $((us / 1000)).$(printf '%03d' $((us % 1000)))s"
