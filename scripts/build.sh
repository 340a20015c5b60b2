#!/usr/bin/env bash
# scripts/build.sh — publish both programs into out/ as self-contained single-file linux-x64
# executables (no .NET runtime needed on the servers).
#
#   scripts/build.sh [--framework-dependent]
#
# --framework-dependent publishes small apphost builds that need the .NET 10 runtime instead.
# Both are published ReadyToRun (their csproj files set it; the producer non-composite): the
# receiver starts once per ssh connection and the producer once per run, so start-up counts
# (docs/benchmarks.md, "Start-up and receiver CPU"; scripts/bench-receiver.sh measures it).
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mode=(--self-contained -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true)
case "${1:-}" in
  "") ;;
  --framework-dependent) mode=(--no-self-contained) ;;
  *) echo "build.sh: unknown argument '$1' (allowed: --framework-dependent)" >&2; exit 2 ;;
esac
mkdir -p out
for project in src/BtrfsSend.Producer src/BtrfsSend.Receiver; do
  dotnet publish "$project" -c Release -r linux-x64 "${mode[@]}" -p:DebugType=none --nologo -v q -o out
done
ls -l out/btrfs-send-backup out/btrfs-backup-receive
