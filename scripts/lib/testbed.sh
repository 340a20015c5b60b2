# scripts/lib/testbed.sh — the throw-away test bed shared by scripts/demo.sh and scripts/bench.sh;
# source it, do not run it. As root: a private mount namespace, loop-mounted btrfs images in a temp
# dir, an ingest user whose authorized_keys forces `sudo -n <receiver> serve ...` (as in
# production, nothing bypassed), a private sshd on 127.0.0.1. Everything it makes is torn down on
# exit, also on Ctrl-C / SIGTERM. The caller defines log and die, and sets SELF and ROOT.

# testbed_enter NAME TOOL... -- ARGS...: checks root, installs what is missing (Debian/Ubuntu),
# then re-runs the caller in a private mount namespace: mounts are invisible to others and vanish
# with us, even on SIGKILL. Returns (does nothing) when already inside.
testbed_enter() {
  local name=$1; shift
  local tools=() c missing=0
  while [ $# -gt 0 ] && [ "$1" != -- ]; do tools+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  [ -n "${TESTBED_INNER:-}" ] && return 0
  [ "$(id -u)" = 0 ] || die "run as root (loop mounts, sshd, sudo, useradd)"
  for c in mkfs.btrfs btrfs losetup unshare /usr/sbin/sshd ssh ssh-keygen sudo visudo gpg "${tools[@]}"; do
    command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || missing=1
  done
  if [ $missing = 1 ]; then
    log "installing btrfs-progs openssh-server openssh-client sudo gnupg time python3"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq btrfs-progs openssh-server openssh-client sudo gnupg util-linux time python3 >/dev/null
  fi
  exec unshare --mount --propagation private env TESTBED_INNER="$name" "$SELF" "$@"
}

# testbed_init NAME: sets W (the temp dir), USER_NAME (the ingest user to be), installs the teardown traps.
testbed_init() {
  W=$(mktemp -d "/tmp/btrfs-send-$1.XXXXXX")
  chmod 0755 "$W"
  USER_NAME=bs$1$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  TESTBED_SUDOERS=/etc/sudoers.d/btrfs-send-$1-$USER_NAME
  SSHD_PID=
  CHILD=   # a background job the script waits for (demo: the producer); TERMed first on teardown
  trap 'rc=$?; trap - EXIT; testbed_teardown; exit $rc' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

testbed_teardown() {
  set +e
  # A producer still running (SIGTERM to the script): let it restart services and clean up first.
  [ -n "${CHILD:-}" ] && { kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; }
  [ -n "$SSHD_PID" ] && { pkill -P "$SSHD_PID" 2>/dev/null; kill "$SSHD_PID" 2>/dev/null; wait "$SSHD_PID" 2>/dev/null; }
  [ -d "$W/gnupg" ] && gpgconf --homedir "$W/gnupg" --kill gpg-agent 2>/dev/null
  rm -f "$TESTBED_SUDOERS"
  if id "$USER_NAME" >/dev/null 2>&1; then
    for _ in $(seq 30); do pgrep -u "$USER_NAME" >/dev/null || break; sleep 0.1; done
    userdel "$USER_NAME" 2>/dev/null
  fi
  for m in $(findmnt -rn -o TARGET | grep "^$W/" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
  for img in "$W"/*.img; do
    [ -e "$img" ] || continue
    for d in $(losetup -n -O NAME -j "$img"); do losetup -d "$d" 2>/dev/null; done
  done
  if [ -z "$(findmnt -rn -o TARGET | grep "^$W/")" ]; then rm -rf --one-file-system "$W"; fi
}

# testbed_build [published]: Release build of the solution; sets PRODUCER and RECEIVER. With
# "published", the programs as they ship instead (scripts/build.sh into out/: the native receiver,
# the producer single-file with ReadyToRun code), which is what a benchmark must measure.
testbed_build() {
  if [ "${1:-}" = published ]; then
    log "publishing as shipped (scripts/build.sh)"
    "$ROOT/scripts/build.sh" >/dev/null
    PRODUCER=$ROOT/out/btrfs-send-backup
    RECEIVER=$ROOT/out/btrfs-backup-receive
    return
  fi
  log "building (Release)"
  dotnet build "$ROOT/BtrfsSend.sln" -c Release --nologo -v q >/dev/null
  PRODUCER=$ROOT/src/BtrfsSend.Producer/bin/Release/net10.0/btrfs-send-backup
  RECEIVER=$ROOT/src/BtrfsSend.Receiver/bin/Release/net10.0/btrfs-backup-receive
}

# testbed_mkfs NAME SIZE: a sparse image $W/NAME.img with btrfs, loop-mounted on $W/NAME.
testbed_mkfs() {
  truncate -s "$2" "$W/$1.img"
  mkfs.btrfs -q -f -L "testbed-$1" "$W/$1.img" >/dev/null
  mkdir -p "$W/$1"
  mount -o loop "$W/$1.img" "$W/$1"
}

# testbed_ingest HOST_ALIAS BACKUP_ROOT KEY...: $W/ssh (host key, known_hosts under HOST_ALIAS, one
# client key pair per KEY), $W/gnupg, $W/conf with receiver.conf for BACKUP_ROOT and a random
# passphrase file, and the ingest user (home $W/home, no password, no login but by key).
testbed_ingest() {
  local alias=$1 backup_root=$2 k; shift 2
  install -d -m 0700 "$W/ssh" "$W/gnupg" "$W/conf"
  install -d -m 0755 "$W/home" /run/sshd
  for k in host "$@"; do ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/$k"; done
  echo "$alias $(cut -d' ' -f1,2 "$W/ssh/host.pub")" > "$W/ssh/known_hosts"
  useradd --system --no-create-home --home-dir "$W/home" --shell /bin/sh --password '*' "$USER_NAME"
  cat > "$W/conf/receiver.conf" <<CONF
BACKUP_ROOT=$backup_root
KEEP_DAILY=7
KEEP_WEEKLY=4
KEEP_MONTHLY=12
MIN_FREE_SPACE=16M
CONF
  ( umask 077; head -c 48 /dev/urandom | base64 -w0 > "$W/conf/passphrase"; echo >> "$W/conf/passphrase" )
}

# testbed_receiver_key KEY PROGRAM CLIENT: the authorized_keys line that forces
# `sudo -n PROGRAM serve --config receiver.conf --client CLIENT -- "$SSH_ORIGINAL_COMMAND"` for KEY,
# and the sudoers rule that lets the ingest user run exactly `PROGRAM serve *` as root.
testbed_receiver_key() {
  printf 'restrict,command="sudo -n %s serve --config %s --client %s -- \\"$SSH_ORIGINAL_COMMAND\\"" %s\n' \
    "$2" "$W/conf/receiver.conf" "$3" "$(cat "$W/ssh/$1.pub")" >> "$W/home/authorized_keys"
  chmod 0644 "$W/home/authorized_keys"
  printf '%s ALL=(root) NOPASSWD: %s serve *\n' "$USER_NAME" "$2" > "$W/ssh/sudoers"
  visudo -cqf "$W/ssh/sudoers"
  install -m 0440 "$W/ssh/sudoers" "$TESTBED_SUDOERS"
}

# testbed_forced_key KEY COMMAND: an authorized_keys line forcing COMMAND for KEY.
testbed_forced_key() {
  printf 'restrict,command="%s" %s\n' "$2" "$(cat "$W/ssh/$1.pub")" >> "$W/home/authorized_keys"
  chmod 0644 "$W/home/authorized_keys"
}

# testbed_sshd FIRST_PORT: a private sshd on 127.0.0.1 at the first free port of FIRST_PORT..+99
# that lets only the ingest user in, by key; sets PORT and SSHD_PID.
testbed_sshd() {
  cat > "$W/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1
HostKey $W/ssh/host
PidFile $W/ssh/sshd.pid
UsePAM no
AuthorizedKeysFile $W/home/authorized_keys
AllowUsers $USER_NAME
AuthenticationMethods publickey
ClientAliveInterval 5
ClientAliveCountMax 3
CONF
  PORT=$(comm -23 <(seq "$1" $(($1 + 99)) | sort) <(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u) | head -n 1)
  /usr/sbin/sshd -D -E "$W/ssh/sshd.log" -f "$W/ssh/sshd_config" -p "$PORT" &
  SSHD_PID=$!
  for _ in $(seq 100); do grep -q "Server listening" "$W/ssh/sshd.log" 2>/dev/null && break; sleep 0.05; done
}
