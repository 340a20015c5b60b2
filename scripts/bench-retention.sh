#!/usr/bin/env bash
# Benchmarks the retention planner (100,000 items must plan in well under a second), the chain
# resolver and the send-stream validator's throughput. Release build; best of 5 after a warm-up.
# Prints the results and writes them as the "Retention, chains, validator" section of
# docs/benchmarks.md. Usage: scripts/bench-retention.sh [item-count]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release -v quiet -nologo bench/BtrfsSend.Bench.Retention >/dev/null
out=$(mktemp)
{
  echo "## Retention, chains, validator"
  echo
  echo "Run by \`scripts/bench-retention.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, .NET $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)); best of 5 after a warm-up. No timed assertions exist in the test suite: these numbers live here."
  echo
  echo '```text'
  dotnet bench/BtrfsSend.Bench.Retention/bin/Release/net10.0/BtrfsSend.Bench.Retention.dll "${1:-100000}"
  echo '```'
} > "$out"
cat "$out"
doc=docs/benchmarks.md
[ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
# Replace the section if present (up to the next "## " heading), else append it.
awk -v section="$out" '
  BEGIN { while ((getline line < section) > 0) text = text line "\n" }
  /^## Retention, chains, validator/ { skipping = 1; if (!done) { printf "%s\n", text; done = 1 }; next }
  skipping && /^## / { skipping = 0 }
  !skipping { print }
  END { if (!done) printf "\n%s", text }
' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
rm -f "$out"
