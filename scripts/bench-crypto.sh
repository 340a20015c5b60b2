#!/usr/bin/env bash
# Benchmark: our OpenPGP encrypt/decrypt (bench/BtrfsSend.Bench.Crypto) against gpg on the same
# 2 GiB input (1 GiB random + 1 GiB compressible text), best of 3 by wall time. Not a test.
# Writes the table into the "Crypto" section of docs/benchmarks.md.
# Usage: scripts/bench-crypto.sh [SIZE_MIB]   (default 2048)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
size_mib="${1:-2048}"
runs=3

if [[ ! -x /usr/bin/time ]]; then
  apt-get install -y time >/dev/null
fi

dotnet build -c Release "$repo/bench/BtrfsSend.Bench.Crypto" -v q -nologo >/dev/null
ours="$repo/bench/BtrfsSend.Bench.Crypto/bin/Release/net10.0/BtrfsSend.Bench.Crypto"

work="$(mktemp -d /tmp/bench-crypto.XXXXXX)"
export GNUPGHOME="$work/gnupg"
cleanup() {
  gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
install -d -m 0700 "$GNUPGHOME"
head -c 48 /dev/urandom | base64 -w0 > "$work/pass"
echo >> "$work/pass"
chmod 0600 "$work/pass"

half=$((size_mib / 2))
head -c "${half}M" /dev/urandom > "$work/input"
# seq and awk die of SIGPIPE when head has enough: not an error here.
(set +o pipefail; seq 1 1000000000 | awk '{ print "backup line " $1 " of compressible text in a btrfs send stream" }' | head -c "$((size_mib - half))M") >> "$work/input"
input_sha="$(sha256sum < "$work/input" | cut -d' ' -f1)"

gpg_base=(gpg --batch --quiet --no-tty --pinentry-mode loopback --no-symkey-cache --passphrase-file "$work/pass")

# measure NAME OUTFILE CMD... : best-of-N wall time; prints "wall user sys maxrss_kib" of the best run.
measure() {
  local name="$1" out="$2"
  shift 2
  local best=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" < "$MEASURE_IN" > "$out"
    local line
    line="$(cat "$work/time")"
    if [[ -z "$best" ]] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best="$line"
    fi
  done
  echo "$name $best" >> "$work/results"
}

: > "$work/results"
MEASURE_IN="$work/input" measure "encrypt-ours" "$work/ours.gpg" "$ours" encrypt --passphrase-file "$work/pass"
MEASURE_IN="$work/input" measure "encrypt-gpg-nocompress" "$work/gpg.gpg" "${gpg_base[@]}" --symmetric --cipher-algo AES256 --compress-algo none
MEASURE_IN="$work/input" measure "encrypt-gpg-default" /dev/null "${gpg_base[@]}" --symmetric
# Both decrypt gpg's own uncompressed AES-256 output, so they read the same bytes.
MEASURE_IN="$work/gpg.gpg" measure "decrypt-ours" "$work/plain" "$ours" decrypt --passphrase-file "$work/pass"
[[ "$(sha256sum < "$work/plain" | cut -d' ' -f1)" == "$input_sha" ]] || { echo "our decrypt output differs from the input" >&2; exit 1; }
MEASURE_IN="$work/gpg.gpg" measure "decrypt-gpg" "$work/plain" "${gpg_base[@]}" --decrypt
# Interop check on the benchmark data: gpg decrypts what we wrote.
"${gpg_base[@]}" --decrypt < "$work/ours.gpg" | sha256sum | grep -q "$input_sha" || { echo "gpg could not decrypt our output" >&2; exit 1; }

table="$(awk -v mib="$size_mib" '
  { wall[$1] = $2; cpu[$1] = $3 + $4; rss[$1] = $5 }
  function row(name, label, ref) {
    rate = mib / wall[name]
    ratio = (ref == "") ? "" : sprintf("%.2f×", wall[name] / wall[ref])
    printf "| %s | %.0f | %.1f | %.2f | %.1f | %s |\n", label, rate, wall[name], cpu[name], rss[name] / 1024, ratio
  }
  END {
    print "| what | MiB/s | wall s | CPU s (user+sys) | peak RSS MiB | ours/gpg throughput |"
    print "|---|---:|---:|---:|---:|---:|"
    row("encrypt-ours", "encrypt: ours (AES-256, MDC, no compression)", "")
    row("encrypt-gpg-nocompress", "encrypt: `gpg --symmetric --cipher-algo AES256 --compress-algo none`", "encrypt-ours")
    row("encrypt-gpg-default", "encrypt: `gpg --symmetric` (defaults: AES-128, ZLIB)", "encrypt-ours")
    row("decrypt-ours", "decrypt: ours", "")
    row("decrypt-gpg", "decrypt: `gpg --decrypt`", "decrypt-ours")
    enc = wall["encrypt-gpg-nocompress"] / wall["encrypt-ours"]
    encd = wall["encrypt-gpg-default"] / wall["encrypt-ours"]
    dec = wall["decrypt-gpg"] / wall["decrypt-ours"]
    maxrss = (rss["encrypt-ours"] > rss["decrypt-ours"] ? rss["encrypt-ours"] : rss["decrypt-ours"]) / 1024
    printf "\nThroughput ratio ours/gpg: encrypt %.2f× (vs gpg defaults %.2f×), decrypt %.2f×. Our peak RSS %.1f MiB.\n", enc, encd, dec, maxrss
    printf "\nTarget (≥ 1.2× gpg for encrypt and decrypt, peak RSS < 64 MiB): encrypt %s, decrypt %s, RSS %s.\n", \
      (enc >= 1.2 ? "met" : "NOT met"), (dec >= 1.2 ? "met" : "NOT met"), (maxrss < 64 ? "met" : "NOT met")
  }' "$work/results")"

{
  echo "## Crypto"
  echo
  echo "Run by \`scripts/bench-crypto.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(gpg --version | head -1)),"
  echo "${size_mib} MiB input (half random, half text), best of ${runs} by wall time, same run; input read from and"
  echo "output written to files under /tmp. The machine is shared with other jobs (load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)),"
  echo "so wall-clock figures are noisy (±30% or worse); CPU seconds are the steadier comparison."
  echo
  echo "$table"
  echo
} > "$work/section"

doc="$repo/docs/benchmarks.md"
[[ -f "$doc" ]] || printf '# Benchmarks\n' > "$doc"
# Replace the Crypto section (up to the next "## " heading), or append it.
awk -v section="$work/section" '
  BEGIN { while ((getline line < section) > 0) text = text line "\n" }
  /^## / { if (skipping) skipping = 0; if ($0 == "## Crypto") { printf "%s", text; skipping = 1; done = 1; next } }
  !skipping { print }
  END { if (!done) printf "\n%s", text }
' "$doc" > "$work/doc" && cat "$work/doc" > "$doc"
cat "$work/section"
