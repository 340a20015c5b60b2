#!/usr/bin/env bash
# scripts/build.sh — publish both programs for linux-x64 into out/, neither needing a .NET runtime
# on the servers: the receiver as one native executable (NativeAOT), the producer as a
# self-contained single-file executable with ReadyToRun code (non-composite).
#
#   scripts/build.sh [--framework-dependent]
#
# --framework-dependent publishes small apphost builds that need the .NET 10 runtime instead, both
# with ReadyToRun code (the receiver then is not native).
#
# The native receiver is compiled and linked here, which needs clang (Debian: apt-get install
# clang; a versioned clang-N alone is used too) and takes minutes. Start-up is why: sshd starts
# the receiver once per connection and cron the producer once per run (docs/benchmarks.md,
# "Start-up and receiver CPU"; scripts/bench-receiver.sh measures it).
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
producer=(--self-contained -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true)
receiver=(--self-contained)
case "${1:-}" in
  "") ;;
  --framework-dependent) producer=(--no-self-contained); receiver=(--no-self-contained -p:PublishAot=false) ;;
  *) echo "build.sh: unknown argument '$1' (allowed: --framework-dependent)" >&2; exit 2 ;;
esac
if [ "${receiver[*]}" = --self-contained ] && ! command -v clang >/dev/null; then
  # No unversioned clang: the newest clang-N on PATH compiles and links the native receiver.
  cc=$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)
  [ -n "$cc" ] || { echo "build.sh: clang not found: the native receiver is linked with it (Debian: apt-get install clang)" >&2; exit 1; }
  receiver+=(-p:CppCompilerAndLinker="$cc")
fi
mkdir -p out
dotnet publish src/BtrfsSend.Producer -c Release -r linux-x64 "${producer[@]}" -p:DebugType=none --nologo -v q -o out
dotnet publish src/BtrfsSend.Receiver -c Release -r linux-x64 "${receiver[@]}" -p:DebugType=none --nologo -v q -o out
ls -l out/btrfs-send-backup out/btrfs-backup-receive
