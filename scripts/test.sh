#!/usr/bin/env bash
# scripts/test.sh — the one command that proves the project works.
#
# Installs what the tests need if missing (as root: btrfs-progs, openssh, sudo, gnupg, xz, zstd,
# nftables, iproute2 and strace for the fault suite, go-md2man and groff for the man-page tests,
# lintian, man-db, bash-completion and systemd-analyze for the package test, clang to link the
# native receiver that the package test publishes (scripts/build.sh), and Ceph's monitor,
# OSD and radosgw for the offsite tests' real S3 server: scripts/lib/s3-ceph.sh),
# restores, checks formatting, builds with warnings as errors, runs ALL tests (including the
# real btrfs / sshd / gpg ones) and ends with the line "N passed, N failed, N skipped".
# Exit status is non-zero on any failure.
#
#   scripts/test.sh [--filter EXPR] [--no-format]
#
# As root the test run happens inside a private mount namespace (unshare --mount), so loop
# mounts made by the tests vanish with it even if the run is killed.
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

FILTER=()
FORMAT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) FILTER=(--filter "$2"); shift 2 ;;
    --no-format) FORMAT=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (allowed: --filter EXPR, --no-format)" >&2; exit 2 ;;
  esac
done

log() { printf '[test.sh] %s\n' "$*" >&2; }

# ---- prerequisites
missing=()
for c in mkfs.btrfs btrfs compsize getfattr setfacl setcap python3 /usr/sbin/sshd ssh ssh-keygen sudo visudo gpg gpgconf xz zstd losetup unshare nft ip ss nsenter strace go-md2man groff dpkg-deb lintian man systemd-analyze clang readelf ceph-mon ceph-osd radosgw ceph uuidgen curl flock; do
  command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || missing+=("$c")
done
[ -f /usr/share/bash-completion/bash_completion ] || missing+=(bash-completion)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing missing tools: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq btrfs-progs openssh-server openssh-client sudo gnupg xz-utils zstd util-linux nftables iproute2 strace go-md2man groff-base acl attr btrfs-compsize libcap2-bin python3-minimal uuid-runtime curl lintian bash-completion man-db systemd faketime clang binutils >/dev/null
    # The offsite tests' S3 server (~100 s; without recommends: no mgr, no dashboards).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >/dev/null
  else
    log "missing tools: ${missing[*]} (run as root to install them; real-tool tests will be skipped)"
  fi
fi
command -v dotnet >/dev/null || { log "dotnet not found: install the .NET 10 SDK first"; exit 1; }

# ---- restore, format, build
log "restore"
dotnet restore BtrfsSend.sln --nologo -v q
if [ "$FORMAT" = 1 ]; then
  log "dotnet format --verify-no-changes"
  dotnet format BtrfsSend.sln --verify-no-changes --no-restore -v q || { log "formatting differs: run 'dotnet format BtrfsSend.sln'"; exit 1; }
fi
log "build (Release, warnings are errors)"
dotnet build BtrfsSend.sln -c Release --no-restore --nologo -v q -warnaserror

# ---- test
results=.test-results
rm -rf "$results"
run() {
  if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    unshare --mount --propagation private "$@"
  else
    "$@"
  fi
}
rc=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue
  log "test $name"
  run dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" --blame-hang-timeout 10m "${FILTER[@]}" || rc=1
done

# ---- summary over every test project's TRX file
passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p"; }
  total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + p))
  failed=$((failed + f + e + t + a))
  skipped=$((skipped + total - p - f - e - t - a))
done
if [ "$files" = 0 ]; then
  log "no test results were written"
  [ "$rc" = 0 ] && rc=1
fi
if [ "$failed" -gt 0 ] && [ "$rc" = 0 ]; then rc=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
