#!/usr/bin/env bash
# scripts/bench-s3.sh — offsite copy throughput and memory (issue 18), repeatable, as root.
# Makes one committed stream of SIZE random bytes (and its manifest) in a temp BACKUP_ROOT, starts
# (or joins) the real S3 server of scripts/lib/s3-ceph.sh, and times
#   1. btrfs-backup-receive replicate into a fresh Object Lock bucket (wall time, peak RSS), and
#   2. s3cmd put of the same file into another bucket (Debian's s3cmd; multipart, 15 MiB chunks)
# with /usr/bin/time. Prints one table row per tool. Nothing outside the temp dir and the two
# buckets is touched; the temp dir is removed and the server released on exit.
#
#   scripts/bench-s3.sh [SIZE]     SIZE in MiB, default 2048
#   RECEIVER=path/to/btrfs-backup-receive scripts/bench-s3.sh
set -Eeuo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
MIB=${1:-2048}
log() { printf '[bench-s3 %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
[[ $MIB =~ ^[1-9][0-9]*$ ]] || die "SIZE must be a whole number of MiB, got '$MIB'"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"
command -v s3cmd >/dev/null || die "s3cmd is needed for the comparison (apt-get install s3cmd)"
RECEIVER=${RECEIVER:-}
if [ -z "$RECEIVER" ]; then
  if [ -x "$ROOT/out/btrfs-backup-receive" ]; then RECEIVER=$ROOT/out/btrfs-backup-receive
  else
    dotnet build "$ROOT/src/BtrfsSend.Receiver" -c Release --nologo -v q >/dev/null
    RECEIVER=$ROOT/src/BtrfsSend.Receiver/bin/Release/net10.0/btrfs-backup-receive
  fi
fi

W=$(mktemp -d /var/tmp/bench-s3.XXXXXX)
B1=; B2=
cleanup() {
  # Empty and remove the two buckets (gigabytes in the shared server's OSD), then the temp dir.
  for b in $B1 $B2; do "${S3CMD[@]}" rb --recursive --force "s3://$b" >/dev/null 2>&1 || true; done
  rm -rf "$W"; bash "$ROOT/scripts/lib/s3-ceph.sh" release $$ >/dev/null 2>&1 || true
}
trap cleanup EXIT
read -r ENDPOINT ACCESS SECRET < <(bash "$ROOT/scripts/lib/s3-ceph.sh" acquire $$ | sed 's/[a-z]*=//g')
HOSTPORT=${ENDPOINT#http://}
S3CMD=(s3cmd --no-ssl --host="$HOSTPORT" --host-bucket="$HOSTPORT" --access_key="$ACCESS" --secret_key="$SECRET" --no-check-md5 -q)

SET_DIR=$W/root/bench/s3
mkdir -p "$SET_DIR"
SNAP=bench-$(date -u +%Y%m%dT%H%M%SZ)
STREAM=$SET_DIR/$SNAP.full.btrfs.gpg
log "generating a $MIB MiB stream"
head -c "$((MIB * 1048576))" /dev/urandom > "$STREAM"
SHA=$(sha256sum "$STREAM" | cut -d' ' -f1)
printf '%s\n' "format=btrfs-send-manifest/1" "set=bench/s3" "snapshot=$SNAP" "kind=full" "stream_file=$SNAP.full.btrfs.gpg" \
  "stream_bytes=$((MIB * 1048576))" "stream_sha256=$SHA" "encryption=openpgp-symmetric" "compression=none" "send_proto=2" \
  "received_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "client=bench" > "$SET_DIR/$SNAP.manifest"
chmod 0400 "$STREAM" "$SET_DIR/$SNAP.manifest"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$ACCESS" "$SECRET" > "$W/credentials"
chmod 0600 "$W/credentials"

B1=bench-replicate-$$-$RANDOM; B2=bench-s3cmd-$$-$RANDOM
"${S3CMD[@]}" mb "s3://$B2" >/dev/null
# An Object Lock bucket needs the x-amz-bucket-object-lock-enabled header, which s3cmd mb cannot send: let replicate's own tests cover locking; here both buckets are plain.
"${S3CMD[@]}" mb "s3://$B1" >/dev/null
printf 'BACKUP_ROOT=%s\nMIN_FREE_SPACE=0\nS3_ENDPOINT=%s\nS3_BUCKET=%s\nS3_CREDENTIALS_FILE=%s\n' "$W/root" "$ENDPOINT" "$B1" "$W/credentials" > "$W/receiver.conf"

sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
log "replicate"
/usr/bin/time -f '%e %M' -o "$W/t.replicate" "$RECEIVER" replicate --config "$W/receiver.conf" 2> "$W/err.replicate" || die "replicate: $(tail -3 "$W/err.replicate")"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
log "s3cmd put"
/usr/bin/time -f '%e %M' -o "$W/t.s3cmd" "${S3CMD[@]}" put "$STREAM" "s3://$B2/x" 2> "$W/err.s3cmd" || die "s3cmd: $(tail -3 "$W/err.s3cmd")"

row() { read -r wall rss < "$W/t.$1"; printf '| %s | %s MiB | %s s | %.0f MiB/s | %.0f MiB |\n' "$2" "$MIB" "$wall" "$(echo "$MIB / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"; }
echo "| tool | stream | wall | throughput | peak RSS |"
echo "| --- | --- | --- | --- | --- |"
row replicate "btrfs-backup-receive replicate (8 MiB parts, 3 in flight, Content-MD5, SHA-256, HEAD check)"
row s3cmd "s3cmd put (15 MiB parts)"
