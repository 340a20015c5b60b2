#!/usr/bin/env bash
# scripts/install.sh [PREFIX] — install the programs built by scripts/build.sh as root-owned
# 0755 files under PREFIX (default /usr/local/sbin), with the seed scripts' names:
#   PREFIX/btrfs-send-backup      (prod-srv)
#   PREFIX/btrfs-backup-receive   (backup-srv)
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
prefix=${1:-/usr/local/sbin}
for program in btrfs-send-backup btrfs-backup-receive; do
  [ -x "out/$program" ] || { echo "install.sh: out/$program is missing: run scripts/build.sh first" >&2; exit 1; }
done
install -d -m 0755 "$prefix"
for program in btrfs-send-backup btrfs-backup-receive; do
  install -m 0755 -o root -g root "out/$program" "$prefix/$program"
  echo "installed $prefix/$program ($("$prefix/$program" --version))"
done
