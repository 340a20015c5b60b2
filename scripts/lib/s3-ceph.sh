#!/usr/bin/env bash
# scripts/lib/s3-ceph.sh — a real S3 server with Object Lock for the tests, the demo and the
# benchmark: a single-node Ceph (one monitor, one BlueStore OSD on a sparse file, optional
# manager) plus radosgw, from Debian's packages (ceph-mon ceph-osd radosgw ceph-common), started
# without systemd, everything under $CEPH_S3_DIR, listening on 127.0.0.1 only. Needs root.
#
#   s3-ceph.sh start | stop | status     start or stop the server directly
#   s3-ceph.sh acquire PID               share the server: start it unless it answers, count PID as a user
#   s3-ceph.sh release PID               stop counting PID; the last user stops the server
#
# start and acquire print one line on stdout: "endpoint=URL access=KEY secret=SECRET".
# One Ceph cluster per host (its monitor has fixed ports 3300 and 6789), so test processes share
# one server: acquire/release keep a user file per process id under $CEPH_S3_DIR.users, all under
# one flock. Users whose process is gone (killed test runs) are dropped at the next acquire or
# release. Each test creates its own bucket, so users never see each other's objects.
#
# Environment: CEPH_S3_DIR (default /var/tmp/btrfs-send-ceph-s3), CEPH_S3_PORT (7480),
# CEPH_S3_BLOCK_BYTES (sparse OSD file, 40 GiB), CEPH_S3_WITH_MGR (0), CEPH_S3_ACCESS/SECRET.
#
# Measured on a 2-core machine: start to first PUT 12-19 s, RSS ~130 MiB without the manager
# (~430 MiB with it), stop 2-7 s. Ceph 16 (Debian 12) facts the project relies on: Object Lock
# works (a bucket created with it is versioned; COMPLIANCE refuses deleting a version before its
# retain-until), Content-MD5 is checked (BadDigest), x-amz-checksum-* headers are ignored, and
# CompleteMultipartUpload answers an empty ETag (HEAD has the right one).
set -euo pipefail

DIR=${CEPH_S3_DIR:-/var/tmp/btrfs-send-ceph-s3}
PORT=${CEPH_S3_PORT:-7480}
BLOCK_BYTES=${CEPH_S3_BLOCK_BYTES:-42949672960}
ACCESS=${CEPH_S3_ACCESS:-BTRFSSENDTESTACCESS1}
SECRET=${CEPH_S3_SECRET:-btrfssendtestsecret0000000000000000000001}
WITH_MGR=${CEPH_S3_WITH_MGR:-0}
CONF=$DIR/ceph.conf
LOCK=$DIR.lock
USERS=$DIR.users
export CEPH_CONF=$CONF

log() { printf '[s3-ceph] %s\n' "$*" >&2; }

wait_for() {  # wait_for <timeout_s> <cmd...>
  local t=$1; shift
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && { log "timeout after ${t}s waiting for: $*"; return 1; }
    sleep 0.2
  done
}

osd_up() { ceph osd dump -f json 2>/dev/null | grep -q '"up":1'; }
rgw_up() { curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/"; }
say_endpoint() { echo "endpoint=http://127.0.0.1:$PORT access=$ACCESS secret=$SECRET"; }

start() {
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
    command -v "$tool" >/dev/null || { log "missing $tool: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl"; return 1; }
  done
  [ -e "$DIR" ] && { log "$DIR exists; stop the old server first"; return 1; }
  mkdir -p "$DIR"/{run,log,crash,mon/ceph-a,mgr/ceph-x,osd,rgw}
  local FSID; FSID=$(uuidgen)
  cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon_initial_members = a
mon_host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public_network = 127.0.0.0/8
ms_bind_ipv4 = true
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $DIR/keyring
run_dir = $DIR/run
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
mon_cluster_log_file = $DIR/log/cluster.log
crash_dir = $DIR/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_warn_on_insecure_global_id_reclaim_allowed = false
mon_warn_on_insecure_global_id_reclaim = false

[mon]
mon_data = $DIR/mon/ceph-\$id
keyring = $DIR/mon/ceph-\$id/keyring

[mgr]
mgr_data = $DIR/mgr/ceph-\$id
keyring = $DIR/mgr/ceph-\$id/keyring

[osd]
osd_data = $DIR/osd/ceph-\$id
keyring = $DIR/osd/ceph-\$id/keyring
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = $BLOCK_BYTES
bluestore_block_db_create = false
bluestore_block_wal_create = false
bluestore_fsck_on_mkfs = false
osd_memory_target = 1073741824

[client.rgw.a]
keyring = $DIR/rgw/keyring
rgw_data = $DIR/rgw
rgw_frontends = beast endpoint=127.0.0.1:$PORT
EOF
  # Leave bluestore_block_path unset (setting it to $osd_data/block makes a symlink to itself) and
  # admin_socket out of [global] (concurrent 'ceph' calls would collide on it).

  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$FSID" --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >>"$DIR/log/start.out" 2>&1
  ceph-mon -c "$CONF" -i a </dev/null 9>&- >>"$DIR/log/start.out" 2>&1
  wait_for 60 ceph -s
  log "monitor up"

  # Create radosgw's pools up front (in the background, overlapping the OSD's mkfs): radosgw
  # would otherwise create them one by one, each waiting for its placement groups (+9 s).
  (
    for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
             default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
      ceph osd pool create "$p" 8 8 replicated --autoscale-mode=off >/dev/null 2>&1 &
    done; wait
    for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
             default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
      ceph osd pool application enable "$p" rgw >/dev/null 2>&1 &
    done; wait
  ) </dev/null >/dev/null 2>&1 9>&- &
  local POOLS_PID=$!

  if [ "$WITH_MGR" = 1 ]; then
    ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$DIR/mgr/ceph-x/keyring"
    ceph-mgr -c "$CONF" -i x </dev/null 9>&- >>"$DIR/log/start.out" 2>&1
  fi

  local UUID KEY ID
  UUID=$(uuidgen); KEY=$(ceph-authtool --gen-print-key)
  printf '{"cephx_secret": "%s"}' "$KEY" > "$DIR/osd/new.json"
  ID=$(ceph osd new "$UUID" -i "$DIR/osd/new.json")
  mkdir -p "$DIR/osd/ceph-$ID"
  ceph-authtool --create-keyring "$DIR/osd/ceph-$ID/keyring" --name "osd.$ID" --add-key "$KEY" >/dev/null
  ceph-osd -c "$CONF" -i "$ID" --mkfs --osd-uuid "$UUID" >"$DIR/log/osd-mkfs.log" 2>&1
  ceph-osd -c "$CONF" -i "$ID" </dev/null 9>&- >>"$DIR/log/start.out" 2>&1
  wait_for 120 osd_up
  log "osd.$ID up"
  wait "$POOLS_PID" || true

  ceph auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' -o "$DIR/rgw/keyring"
  radosgw -c "$CONF" -n client.rgw.a </dev/null 9>&- >>"$DIR/log/start.out" 2>&1
  wait_for 180 rgw_up
  radosgw-admin -c "$CONF" user create --uid=test --display-name="btrfs-send tests" \
    --access-key="$ACCESS" --secret-key="$SECRET" >"$DIR/user.json"
  log "radosgw answering on 127.0.0.1:$PORT"
}

stop() {
  # The data is thrown away, so SIGKILL (radosgw sometimes ignores SIGTERM for more than 10 s).
  local f p
  for f in "$DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f")
    kill -KILL "$p" 2>/dev/null || true
  done
  for f in "$DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f")
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  done
  [ -n "${CEPH_S3_KEEP_LOGS:-}" ] && [ -d "$DIR/log" ] && cp -r "$DIR/log" "$CEPH_S3_KEEP_LOGS" || true
  rm -rf "$DIR"
  log "stopped; removed $DIR"
}

ensure_started() {
  if rgw_up && [ -f "$DIR/user.json" ]; then
    return 0
  fi
  [ -e "$DIR" ] && { log "found a server that does not answer: removing it"; stop; }
  start
}

prune_users() {
  local f
  for f in "$USERS"/*; do
    [ -e "$f" ] || continue
    kill -0 "$(basename "$f")" 2>/dev/null || { rm -f "$f"; log "dropped user $(basename "$f") (process gone)"; }
  done
}

users_left() { compgen -G "$USERS/*" >/dev/null; }

check_pid() { [[ "${1:-}" =~ ^[0-9]+$ ]] || { echo "usage: $0 acquire|release PID" >&2; exit 2; }; }

locked() {  # run "$@" under the host-wide flock (fd 9; every daemon is started with 9>&- so it never holds it)
  mkdir -p "$(dirname "$DIR")" "$USERS"
  exec 9>"$LOCK"
  flock -w 600 9 || { log "could not take $LOCK within 600 s"; exit 1; }
  "$@"
}

acquire() {
  check_pid "$1"
  prune_users
  touch "$USERS/$1"
  if ! ensure_started; then
    rm -f "$USERS/$1"
    users_left || stop
    return 1
  fi
  say_endpoint
}

release() {
  check_pid "$1"
  rm -f "$USERS/$1"
  prune_users
  if ! users_left && [ -e "$DIR" ]; then stop; fi
}

case "${1:-}" in
  start) locked start && say_endpoint ;;
  stop) locked stop ;;
  status) if rgw_up; then echo "answering on http://127.0.0.1:$PORT; users: $(ls "$USERS" 2>/dev/null | tr '\n' ' ')"; else echo "not running"; exit 3; fi ;;
  acquire) locked acquire "${2:-}" ;;
  release) locked release "${2:-}" ;;
  *) echo "usage: $0 start|stop|status|acquire PID|release PID" >&2; exit 2 ;;
esac
