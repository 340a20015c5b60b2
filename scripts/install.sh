#!/usr/bin/env bash
# scripts/install.sh [PREFIX] — install the programs built by scripts/build.sh as root-owned
# 0755 files under PREFIX (default /usr/local/sbin), with the shell scripts' names:
#   PREFIX/btrfs-send-backup      (prod-srv)
#   PREFIX/btrfs-backup-receive   (backup-srv)
# and their man pages (docs/man/*.8, committed; regenerate with scripts/man.sh) as 0644 files in
# MANDIR (default /usr/local/share/man/man8): `man 8 btrfs-send-backup`; the configuration pages
# (docs/man/*.conf.5) go to man5 beside MANDIR: `man 5 btrfs-send-backup.conf`.
# The Debian packages (scripts/package.sh) are the other way to install.
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
prefix=${1:-/usr/local/sbin}
mandir=${MANDIR:-/usr/local/share/man/man8}
for program in btrfs-send-backup btrfs-backup-receive; do
  [ -x "out/$program" ] || { echo "install.sh: out/$program is missing: run scripts/build.sh first" >&2; exit 1; }
  [ -f "docs/man/$program.8" ] || { echo "install.sh: docs/man/$program.8 is missing: run scripts/man.sh" >&2; exit 1; }
done
man5dir=$(dirname "$mandir")/man5
install -d -m 0755 "$prefix" "$mandir" "$man5dir"
for program in btrfs-send-backup btrfs-backup-receive; do
  install -m 0755 -o root -g root "out/$program" "$prefix/$program"
  echo "installed $prefix/$program ($("$prefix/$program" --version))"
  install -m 0644 -o root -g root "docs/man/$program.8" "$mandir/$program.8"
  echo "installed $mandir/$program.8"
  if [ -f "docs/man/$program.conf.5" ]; then
    install -m 0644 -o root -g root "docs/man/$program.conf.5" "$man5dir/$program.conf.5"
    echo "installed $man5dir/$program.conf.5"
  fi
done
