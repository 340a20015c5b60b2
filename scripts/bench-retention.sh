#!/usr/bin/env bash
# Benchmarks the retention planner (100,000 items must plan in well under a second), the chain
# resolver and the send-stream validator's throughput. Release build; prints one line per
# measurement (best of 5 after a warm-up). Usage: scripts/bench-retention.sh [item-count]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release -v quiet -nologo bench/BtrfsSend.Bench.Retention >/dev/null
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m) $(nproc) cores, $(dotnet --version)"
dotnet bench/BtrfsSend.Bench.Retention/bin/Release/net10.0/BtrfsSend.Bench.Retention.dll "${1:-100000}"
