#!/usr/bin/env bash
# scripts/reliability.sh — runs ONLY the fault-injection cases (trait Category=Fault in
# tests/BtrfsSend.IntegrationTests — real producer, real receiver, real sshd, real btrfs and
# gpg — and in tests/BtrfsSend.Producer.Tests and tests/BtrfsSend.Receiver.Tests), reads their
# TRX files and writes docs/reliability.md: date, machine and load, the table "fault kind ->
# test -> result", one row per case, and the counts (cases tried, passed, failed, data lost).
# A case counts as "data lost" when its after-case check of the earlier backups failed (its
# failure message starts with "DATA LOST:"). The block between <!-- torture:begin --> and
# <!-- torture:end --> (written by scripts/torture.sh) is kept byte for byte.
#
#   scripts/reliability.sh [--output FILE]     (as root; default FILE docs/reliability.md)
#
# Exit status: 0 only when every case ran and passed and no data was lost.
set -Eeuo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

OUTPUT=docs/reliability.md
while [ $# -gt 0 ]; do
  case "$1" in
    --output) OUTPUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "reliability.sh: unknown argument '$1' (allowed: --output FILE)" >&2; exit 2 ;;
  esac
done

log() { printf '[reliability.sh] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "must run as root: the fault cases use loop mounts, sshd, sudo, useradd and network namespaces"
  exit 2
fi
missing=()
for c in mkfs.btrfs btrfs /usr/sbin/sshd ssh ssh-keygen sudo gpg ip nsenter ss nft strace faketime mount umount dd unshare dotnet; do
  command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
  # Not fatal: the affected cases fail (CI=true) or are reported as skipped, and the table shows it.
  log "missing tools: ${missing[*]} (scripts/test.sh installs them)"
fi

results=TestResults/reliability
rm -rf "$results"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
projects=(tests/BtrfsSend.IntegrationTests tests/BtrfsSend.Producer.Tests tests/BtrfsSend.Receiver.Tests)
log "build (Release)"
for p in "${projects[@]}"; do
  dotnet build "$p" -c Release --nologo -v q >&2
done
started=$(date -u +%s)
rc=0
for p in "${projects[@]}"; do
  name=$(basename "$p")
  log "fault cases of $name: dotnet test --filter Category=Fault"
  # A private mount namespace: the loop mounts of the cases vanish with it, even if the run is killed.
  unshare --mount --propagation private dotnet test "$p" -c Release --no-build --nologo \
    --filter "Category=Fault" --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" --blame-hang-timeout 10m >&2 || rc=$?
done
elapsed=$(( $(date -u +%s) - started ))
shopt -s nullglob
trxs=("$results"/*.trx)
shopt -u nullglob
if [ ${#trxs[@]} = 0 ]; then
  log "no TRX file was written under $results"
  exit 1
fi

# One line per case: outcome|data-lost(0/1)|seconds|name (XML entities decoded, control
# characters dropped). A UnitTestResult element spans from its opening tag to
# </UnitTestResult> (or is self-closing); the after-case check's failures carry the
# "DATA LOST:" marker in their message.
rows=$(awk '
  function attr(line, name,   m) {
    if (match(line, name "=\"[^\"]*\"")) { m = substr(line, RSTART + length(name) + 2, RLENGTH - length(name) - 3); return m }
    return ""
  }
  function flush() {
    if (name != "") {
      split(duration, d, ":"); secs = d[1] * 3600 + d[2] * 60 + d[3]
      gsub(/&quot;/, "\"", name); gsub(/&apos;/, "\047", name); gsub(/&lt;/, "<", name); gsub(/&gt;/, ">", name)
      gsub(/&#x[0-9A-Fa-f]+;/, "", name); gsub(/&amp;/, "\\&", name); gsub(/[|]/, "/", name)
      printf "%s|%d|%.1f|%s\n", outcome, lost, secs, name
    }
    name = ""; lost = 0
  }
  /<UnitTestResult / {
    flush()
    name = attr($0, "testName"); outcome = attr($0, "outcome"); duration = attr($0, "duration")
    if ($0 ~ /\/>[[:space:]]*$/) flush()
    next
  }
  /DATA LOST:/ { if (name != "") lost = 1 }
  /<\/UnitTestResult>/ { flush() }
  END { flush() }
' "${trxs[@]}" | tr -d '\000-\010\013-\037' | sort -t'|' -k4)

tried=0 passed=0 failed=0 skipped=0 lost=0
table=""
while IFS='|' read -r outcome datalost secs name; do
  [ -n "$name" ] || continue
  tried=$((tried + 1))
  case "$outcome" in
    Passed) passed=$((passed + 1)); result="passed" ;;
    NotExecuted) skipped=$((skipped + 1)); result="SKIPPED" ;;
    *) failed=$((failed + 1)); result="FAILED" ;;
  esac
  if [ "$datalost" = 1 ]; then lost=$((lost + 1)); result="$result, DATA LOST"; fi
  # Group: the class for the fault suite itself, else project and namespace (e.g. Restore/BindingTests).
  short=${name%%(*}
  args=${name:${#short}}
  method=${short##*.}
  group=${short%.*}
  case "$group" in
    BtrfsSend.IntegrationTests.Faults.*) group=${group#BtrfsSend.IntegrationTests.Faults.} ;;
    BtrfsSend.IntegrationTests.*) group=${group#BtrfsSend.IntegrationTests.}; group=${group//.//} ;;
    BtrfsSend.*.Tests.*) rest=${group#BtrfsSend.}; project=${rest%%.Tests.*}; rest=${rest#*.Tests.}; group="${project}.Tests ${rest//.//}" ;;
  esac
  table+="| ${group} | ${method//_/ }${args} | ${result} | ${secs} |"$'\n'
done <<< "$rows"

# The fault kinds: "kind|Class.Method" of a case above (every row of a theory counts).
kinds='ssh client killed mid-transfer|NetworkCutTests.Killing_the_ssh_client_mid_transfer_exits_6_commits_nothing_and_the_next_run_succeeds
TCP connection reset mid-transfer|NetworkCutTests.Resetting_the_TCP_connection_with_ss_K_mid_transfer_exits_6_commits_nothing_and_the_next_run_succeeds
link goes silent mid-transfer (blackhole)|NetworkCutTests.An_nft_byte_quota_that_blackholes_the_upload_mid_transfer_exits_6_commits_nothing_and_the_next_run_succeeds
producer SIGTERM during the send|ProducerSignalFaultTests.SIGTERM_during_the_send_exits_143_records_nothing_commits_nothing_and_the_next_run_succeeds
producer SIGTERM in the quiesce window|ProducerSignalTests.SIGTERM_while_services_are_stopped_exits_143_restarts_every_one_in_reverse_and_records_nothing
producer SIGKILL in the quiesce window|ProducerSignalTests.SIGKILL_while_services_are_stopped_has_the_guard_restart_exactly_the_stopped_ones_and_the_next_run_succeeds
snapshot stalled past QUIESCE_TIMEOUT_SECONDS|QuiesceTimeoutFaultTests.A_snapshot_stalled_past_QUIESCE_TIMEOUT_SECONDS_has_the_guard_restart_the_services_while_the_producer_still_waits
same config run twice at once|ConcurrentProducerTests.A_second_run_of_the_same_config_during_a_transfer_exits_4_busy_and_the_first_completes
two producers, same set, different configs|ConcurrentProducerTests.A_second_producer_with_its_own_config_for_the_same_set_is_refused_busy_by_the_receiver_and_loses_nothing
two producers, different sets, at once|ConcurrentProducerTests.Producers_for_two_different_sets_run_side_by_side_and_both_succeed
receiver SIGKILL mid-write|ServeFailureTests.A_receiver_killed_mid_write_commits_nothing_and_the_next_list_removes_its_temp_file
receiver SIGKILL during its commit (stream renamed, no manifest yet)|ReceiverCommitFaultTests.SIGKILL_of_the_receiver_after_the_stream_rename_before_the_manifest_records_nothing_check_warns_and_the_next_run_and_restore_succeed
backup disk full|ServeFailureTests.A_stream_larger_than_the_free_space_fails_with_no_space_and_commits_nothing
BACKUP_ROOT read-only mid-transfer|BackupRootFaultTests.BACKUP_ROOT_turning_read_only_mid_transfer_fails_the_run_commits_nothing_and_the_next_run_removes_the_temp_file_and_succeeds
BACKUP_ROOT unmounted mid-transfer|BackupRootFaultTests.BACKUP_ROOT_unmounted_lazily_mid_transfer_fails_the_run_stores_nothing_on_the_bare_mount_point_and_the_next_run_succeeds
source and snapshot filesystem on prod-srv full|SourceFullFaultTests.A_full_source_filesystem_fails_the_canary_run_cleanly_and_a_run_without_canary_still_backs_up
state file on prod-srv garbage, truncated or empty|StateFileFaultTests.A_state_file_holding_garbage_or_a_truncated_name_exits_3_naming_it_and_changes_nothing_and_an_empty_one_never_gives_a_wrong_parent
state file on prod-srv garbage (unit level, four contents)|StateFileTests.A_state_file_holding_garbage_is_a_config_error_that_says_how_to_recover_not_a_silent_full
a manifest on the server truncated or garbage|ManifestFaultTests.A_truncated_or_garbage_manifest_is_reported_by_check_blocks_prune_and_makes_restore_refuse_that_link
ssh host key of the backup server changed|HostKeyFaultTests.A_changed_server_host_key_is_refused_clearly_and_nothing_is_sent_or_recorded
10 GiB stream without a trailer|HostileClientTests.A_10_GiB_stream_without_a_trailer_is_refused_as_too_large_once_1_GiB_is_passed_and_leaves_nothing
forged future and past snapshot names (clock skew)|HostileClientTests.Forged_future_and_past_snapshot_names_are_refused_as_clock_skew_and_store_nothing
server clock jumped two days forward|ClockJumpFaultTests.A_server_clock_two_days_ahead_refuses_uploads_as_clock_skew_and_prune_still_keeps_what_KEEP_WITHIN_kept
server clock jumped two days back|ClockJumpFaultTests.A_server_clock_two_days_behind_refuses_uploads_as_clock_skew_check_warns_of_backups_from_the_future_and_prune_deletes_nothing
server clock back to normal after 12 h ahead|ClockJumpFaultTests.A_backup_stamped_while_the_server_clock_was_12_hours_ahead_never_gets_the_next_backup_pruned_once_the_clock_is_back
prod-srv clock jumped back 12 h or forward two days|ClockJumpFaultTests.A_producer_clock_behind_its_last_snapshot_stops_before_the_snapshot_and_one_two_days_ahead_is_refused_as_clock_skew
fake incrementals (parent not stored)|HostileClientTests.Fake_incrementals_whose_parent_is_not_stored_in_the_set_are_refused_before_any_byte_is_written
overwriting a stored backup|HostileClientTests.Sending_again_under_the_name_of_a_real_backup_is_refused_and_the_stored_stream_is_unchanged
hostile server: a malicious stream on restore (symlink escape)|HostileStreamRestoreTests.A_stream_that_writes_through_a_symlink_to_an_absolute_directory_writes_nothing_outside_the_target
hostile server: a stream swapped in from another set|BindingTests.Another_sets_stream_with_the_same_passphrase_listed_under_this_set_is_refused
hostile server: a stream renamed to another snapshot|BindingTests.A_stream_listed_under_another_snapshot_name_is_refused_naming_the_bound_snapshot
hostile server: rollback (the newest backup withdrawn)|LedgerAuditTests.A_store_whose_newest_stream_was_deleted_is_CRITICAL_and_restore_latest_refuses_unless_allowed
hostile server: an unsigned stream in public-key mode|BindingTests.In_public_key_mode_an_unsigned_stream_made_with_the_public_key_is_refused'
kinds_table="" kinds_total=0 kinds_ok=0
while IFS='|' read -r kind test; do
  kinds_total=$((kinds_total + 1))
  n=0 ok=0 gone=0
  while IFS='|' read -r outcome datalost secs name; do
    case "${name%%(*}" in *".$test") ;; *) continue ;; esac
    n=$((n + 1))
    if [ "$outcome" = Passed ]; then ok=$((ok + 1)); fi
    if [ "$datalost" = 1 ]; then gone=$((gone + 1)); fi
  done <<< "$rows"
  if [ "$n" = 0 ]; then
    res="NOT RUN"; dl="unknown"
  elif [ "$ok" = "$n" ]; then
    kinds_ok=$((kinds_ok + 1))
    res="passed"
    if [ "$n" -gt 1 ]; then res="passed ($n of $n cases)"; fi
    dl="0 data lost"
  else
    res="FAILED ($ok of $n cases passed)"
    if [ "$gone" -gt 0 ]; then dl="**DATA LOST** ($gone)"; else dl="not shown (failed)"; fi
  fi
  kinds_table+="| ${kind} | \`${test}\` | ${res} | ${dl} |"$'\n'
done <<< "$kinds"

# The torture harness's block (scripts/torture.sh) survives a regeneration byte for byte.
torture=""
if [ -f "$OUTPUT" ] && grep -q -- '<!-- torture:begin -->' "$OUTPUT" && grep -q -- '<!-- torture:end -->' "$OUTPUT"; then
  torture=$(awk '/<!-- torture:begin -->/ { on = 1 } on { print } /<!-- torture:end -->/ { if (on) exit }' "$OUTPUT"; printf x)
  torture=${torture%x}
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
os=$(. /etc/os-release 2>/dev/null && printf '%s' "${PRETTY_NAME:-unknown}")
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
# Read the whole config into a variable: "zcat | grep -q" fails under pipefail when grep exits early.
kconfig=$( (zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null) || true)
case "$kconfig" in
  "") ss_k="unknown (no kernel config found; the reset case shows it)" ;;
  *CONFIG_INET_DIAG_DESTROY=y*) ss_k="yes (CONFIG_INET_DIAG_DESTROY=y)" ;;
  *) ss_k="no (CONFIG_INET_DIAG_DESTROY is not set)" ;;
esac

if [ "$elapsed" -le 600 ]; then
  budget_note="within it"
else
  budget_note="OVER it: this run shared its 2 cores with other work (load average above), which slows every ssh, sudo and .NET start-up"
fi

mkdir -p "$(dirname "$OUTPUT")"
{
cat <<EOF
# Reliability: the fault-injection suite

Generated by \`scripts/reliability.sh\` (do not edit by hand; run it again as root).

- **Date:** $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- **Commit:** ${commit}${dirty}
- **Machine:** $(uname -n), ${os}, kernel $(uname -r), $(nproc) CPU (${cpu}), ${mem} RAM; load average (1, 5, 15 min) at the start ${load_start}, at the end ${load}
- **Tools:** $(btrfs --version 2>/dev/null | head -n1), $(ssh -V 2>&1 | head -n1), $(gpg --version | head -n1), $(nft --version 2>/dev/null || echo "nft missing"); \`ss -K\` supported by the kernel: ${ss_k}
- **Suite run time:** ${elapsed} s (budget: about 600 s on an idle 2-core machine; ${budget_note})

## Counts

| cases tried | passed | failed | skipped | data lost |
|---:|---:|---:|---:|---:|
| ${tried} | ${passed} | ${failed} | ${skipped} | **${lost}** |

"Data lost" counts the cases whose after-case check of the earlier backups failed (see below);
it must be 0. A skipped case (a missing prerequisite outside CI) is not a pass.

## Fault kinds

${kinds_ok} of ${kinds_total} fault kinds passed. Each kind is one test (every row of a theory
counts); "0 data lost" means that test passed, including its proof that every earlier backup
is still whole (the fault suite's after-case check below, or the test's own before/after
comparison of the store, the state file and the local snapshots).

| fault kind | test | result | data lost |
|---|---|---|---|
${kinds_table}
EOF
printf '%s' "$torture"
cat <<EOF
## Cases

| group | case | result | seconds |
|---|---|---|---:|
${table}
The first case's time includes building the world (loop filesystems, sshd, the first full backup).
EOF
cat <<'EOF'
## How the suite works

All cases share one world (`tests/BtrfsSend.IntegrationTests/Faults/FaultWorld.cs`), built
once: prod-srv's loop-mounted btrfs with `@rootfs` (and later `@home`), the real receiver
`btrfs-backup-receive serve` behind a private sshd with the production forced command
through `sudo -n`, a `prod.conf` in the format of `prod-btrfs-backup.sh`, and the real producer
`btrfs-send-backup run`. The world lives in its own network namespace (`ip netns add`,
entered with `nsenter --net`), so the network faults below can only touch its own
connections. The receiver is configured with `MAX_STREAM_SIZE=1G`. A full backup is taken
when the world is built and every case adds to the same store, so each case's after-check
also re-checks everything the earlier cases left behind.

To hold a transfer in flight, `btrfs` on the producer's PATH is a wrapper around the real
one: when armed, the next `btrfs send` writes the first half of its real output, waits for
the test to release it, then writes the rest. Each producer case first adds 6 MiB of new
random data to `@rootfs`, waits until the receiver's temp file holds at least 512 KiB, and
only then injects the fault.

**After every case** (the "data lost" check, `FaultWorld.AssertNoDataLostAsync`):
- every stream and manifest that existed before the case is still there, byte for byte
  (SHA-256);
- every manifest of every set parses, its stream has the recorded size and SHA-256, and
  every stored snapshot's chain reaches a full (`ChainResolver`);
- the real `btrfs-send-backup restore --latest` over ssh receives the newest backup, and the
  result is a read-only subvolume with the right `received_uuid`, equal file by file (path,
  type, mode, owner, size, links, mtime, symlink target, SHA-256) to the local snapshot;
- the first check of the world also runs the real `btrfs-send-backup verify --all` (which
  decrypts every stream and checks its OpenPGP integrity and send-stream structure) and
  restores into an empty directory; later checks restore into the same directory, so only
  the new links are received.

A failure of any of these is reported as `DATA LOST: ...` and counted above.

## The faults

| fault | how it is injected | what is asserted |
|---|---|---|
| ssh client killed mid-transfer | SIGKILL to the producer's own `ssh ... receive-stream` process (by PID) while the send is held halfway | producer exits 6 (transfer failed) with "nothing was committed"; the store holds exactly the files it held before (no manifest, no stream, no temp file); state file and local snapshots unchanged; the next run succeeds and stores one more backup; after-case check |
| TCP connection reset | `ss -K dst 127.0.0.1 dport = PORT` inside the world's namespace: the kernel destroys the client socket and sends a RST to sshd | as above; also that `ss -K` really destroyed exactly one socket, so a kernel without `CONFIG_INET_DIAG_DESTROY` fails the case instead of passing it |
| link goes silent (byte quota) | nft in the namespace: `tcp dport PORT quota over 256 KiB drop` on the client's packets, added mid-transfer: no reset, packets just vanish | as above; sshd's keepalives (`ClientAliveInterval 5`, `ClientAliveCountMax 3`) end the session after about 20 s, the receiver sees EOF, removes its temp file and exits; the quota was really hit |
| producer SIGTERM during the send | `kill -TERM` to the producer while its send is held halfway | exit 143 with "terminated by SIGTERM; nothing half-done was recorded as done"; state, store and local snapshots unchanged (the new snapshot is deleted); the next run succeeds; after-case check. (SIGTERM in the quiesce window, with services restarted in reverse order, is `Producer/ProducerSignalTests`.) |
| same config run twice at once | a second `run` while the first is held mid-transfer | the second exits 4 "busy: another process holds STATE_FILE.lock" without touching anything; the first completes and records its backup |
| two producers, same set, different configs | a second prod.conf for the same set (own state file and snapshot dir) runs while the first is held mid-transfer | the receiver refuses it (`ERR busy`, producer exit 5 with "busy: another upload to set ... is running"); it records no state and leaves no snapshot; the first completes |
| two producers, different sets | `prod-srv/home` runs to completion while `prod-srv/rootfs` is held mid-transfer | both exit 0, each set gains exactly one backup, both state files advance; both sets pass the after-case check |
| 10 GiB stream without a trailer | a client with the producer's valid key sends `receive-stream` and then BSF1 frames of zeros generated on the fly (nothing on disk) for up to 10 GiB, against `MAX_STREAM_SIZE=1G` | `ERR too-large`, exit 5; the client could write more than 1 GiB but less than 1.25 GiB before the receiver stopped reading and the pipe broke (EPIPE); the store holds exactly what it held before, no temp file |
| forged future/past snapshot names | with the valid key: names 25 h ahead, in 2099, 25 h behind and in 1970, as full and as incremental on the real latest backup | `ERR clock-skew` (or `ERR bad-parent` for a past incremental, whose parent would be newer than itself), exit 5; nothing stored; the next real run succeeds |
| fake incrementals | with the valid key: an incremental whose parent is a snapshot of another set, the snapshot itself, or a plausible older name never stored | `ERR bad-parent` / `ERR missing-parent`, exit 5, before any byte is written; nothing stored; the next real run succeeds |
| overwrite attempts | with the valid key: `receive-stream` under the name of the real latest backup (full and incremental) and of the first full | refused (`ERR exists` or a grammar error), exit 5; every stored file unchanged (SHA-256); the next real run succeeds |
| receiver SIGKILL during its commit | `strace -f -p` attached to the receiver mid-transfer delays the return of its first `renameat2` (the stream's rename to its final name) by up to 60 s; while it is held there (stream in place, no manifest) the test SIGKILLs the receiver. No hook in the product | the producer exits 6 saying the receiver's `receive-stream` was killed (exit 137); state and local snapshots unchanged; the store gains exactly that one stream file, no manifest, no temp file; `check` warns "stream file without a manifest (an interrupted commit?)" naming it; the next run succeeds (a new snapshot name); after-case check (restore) |
| BACKUP_ROOT unmounted mid-transfer | BACKUP_ROOT is pointed at an empty directory with the store bind-mounted on it; mid-transfer `umount -l` (the path now shows the empty directory underneath) | the producer exits non-zero with the receiver's one line "io-error: ... Could not find a part of the path ...; nothing was stored"; nothing was created on the bare mount point (no backups filling the system disk); state, snapshots and manifests unchanged; the next run succeeds and leaves no temp file |
| BACKUP_ROOT read-only mid-transfer | as above, but mid-transfer the mount is replaced by a read-only bind of the same store (what a filesystem remounted read-only after an I/O error looks like) | "io-error: ... Read-only file system ...; nothing was stored"; no new stream or manifest; the temp file the receiver could not delete is removed by the next run, which succeeds |
| source filesystem on prod-srv full | prod-srv's loop btrfs (source, SNAPSHOT_DIR) filled: `dd` of zeros until ENOSPC, then 2 KB files until ENOSPC | with `CANARY_FILE` set the run fails with "No space left on device" and changes nothing (no snapshot, state, store); without a canary the snapshot still succeeds (btrfs keeps a reserve) and the run backs up, since a send only reads |
| state file garbage, truncated or empty | STATE_FILE overwritten with control bytes and an escape sequence, then with the first half of the real name, then with nothing | garbage and a cut name: exit 3 with one line naming the file and "delete it", no control characters echoed, nothing snapshotted, sent or changed; empty: a run whose new backup is a full or an incremental on a parent the store really holds, state advanced to it; after-case check |
| manifest truncated or garbage | the manifest of the set's newest full (the root of the latest backup's chain) cut in half, then overwritten with the same number of garbage bytes | `check` exits CRITICAL naming the manifest; `prune` deletes nothing ("deleted nothing", every committed file unchanged); `restore --latest` exits non-zero naming that snapshot and receives nothing; the manifest put back, after-case check |
| ssh host key of the backup server changed | a prod.conf whose known_hosts holds another ed25519 key for the server's alias | non-zero exit with ssh's "Host key verification failed" in the log; no snapshot, state or store change, no receiver started; the next run with the right key succeeds |
| server clock two days ahead | its own world (`ClockWorld`): the sshd forced command runs, through `sudo -n`, a root-owned wrapper that execs the real receiver under libfaketime (`faketime -f +2d`, only CLOCK_REALTIME moved) with the offset read from a root-owned file the test writes; prune and check run under `faketime` as cron would run them. Each clock case has a set of its own with two chains (a full; then, the state file gone, a full and an incremental) | the run exits 5 with `clock-skew` "48.0 h behind the receiver's clock"; nothing stored, state and local snapshots unchanged; `check` CRITICAL (newest "2 days old"); `prune` with `KEEP_WITHIN=1d` deletes nothing, because the window counts back from the newest backup when the clock is later (a fix: it used to delete the older chain, received minutes before); clock back, the next run succeeds; after-case check of the set |
| server clock two days behind | as above with `-2d` | exit 5, `clock-skew` "ahead of the receiver's clock"; nothing stored; `check` WARNING naming the stream received "after the server's clock now" and NTP (a fix: it used to say OK); `prune` warns the same way and deletes nothing; clock back, the next run succeeds; after-case check |
| server clock 12 h ahead, then back | a run while the receiver's clock is `+12h` (inside `MAX_CLOCK_SKEW`, accepted: its `received_at` is 12 h in the future), the clock set back, another run | `check` WARNING about the stream from the future; `prune` with `KEEP_DAILY=1` keeps the newest backup (pinned as the newest snapshot name) and the stream stamped ahead with its ancestors, and deletes only the first chain, as the policy says (a fix: the newest backup, stamped correctly after the clock came back, was deleted); after-case check (restore of the newest) |
| prod-srv clock back 12 h, forward two days | the producer under `faketime -f -12h`, then `+2d` | back: exit 9 with one line "this machine's clock ... is 12.0 h behind the last acknowledged snapshot ...; nothing was stopped, snapshotted or sent" (a fix: the run used to take the snapshot and then fail inside, because an incremental must be named after its parent); forward: exit 5 `clock-skew` "ahead of the receiver's clock", the new snapshot deleted; nothing changed either time; the next run succeeds; after-case check |
| snapshot stalled past QUIESCE_TIMEOUT_SECONDS | its own world with `SERVICES_TO_QUIESCE=(a b)`, `QUIESCE_TIMEOUT_SECONDS=10` and a `btrfs` wrapper that holds `subvolume snapshot` until released | while the producer still waits, the guard restarts b then a within 15 s of the stall; once released the run stores its backup, exits 0 and warns that the snapshot finished past QUIESCE_TIMEOUT_SECONDS and may not be quiescent (a fix: it used to say nothing) |

Counted as well (trait Category=Fault on the test, run by this script, in the fault-kind table
above): receiver SIGKILL mid-write and a full backup disk (`Receiver/ServeFailureTests`);
SIGTERM and SIGKILL of the producer while services are stopped (`Producer/ProducerSignalTests`:
the quiesce guard restarts exactly the stopped units, in reverse order); the state file's
garbage cases at unit level (`Producer.Tests Backup/StateFileTests`); and the hostile-server
cases of the trust model: a malicious stream on restore (`Restore/HostileStreamRestoreTests`,
every route and both encryption modes), a stream swapped in from another set or listed under
another snapshot name, an unsigned stream in public-key mode (`Restore/BindingTests`) and a
rollback that withdraws the newest backup (`Restore/LedgerAuditTests`). Not counted: the
command-injection / path-traversal corpus (`Receiver/ServeHostileInputTests`) and a damaged
`btrfs send` (`Producer/ProducerFailureTests`).

## Limits

- A client holding the producer's key can still store new, well-formed but useless streams
  under fresh names within the clock-skew window (the receiver cannot read them); they
  never replace or remove a stored backup, and `verify` on prod-srv reports them.
- The byte-quota case is the slow one (about a minute): nothing resets the silent connection,
  so the session ends only when a keepalive gives up (sshd's `ClientAliveInterval 5` x 3, the
  producer's ssh `ServerAliveInterval=15` x 3). That is the behaviour being tested: without
  keepalives a silent link would hold the receiver's set lock for hours.
- The clock cases need `faketime` (package faketime, installed by `scripts/test.sh`).
  libfaketime works here because .NET reads the wall clock through libc's `clock_gettime`,
  which the preloaded library replaces (checked: a receiver under `faketime -f +2d` logs a date
  two days ahead). A private time namespace (`unshare --time`) would not do: it offsets only
  CLOCK_MONOTONIC and CLOCK_BOOTTIME, never CLOCK_REALTIME; setting the machine's real clock
  would disturb every other process on it.
- The commit-kill case needs `strace` (installed by `scripts/test.sh`) and ptrace rights (root).
- The byte-quota case needs `nft` (package nftables, installed by `scripts/test.sh`) and
  nf_tables in the kernel; the reset case needs `CONFIG_INET_DIAG_DESTROY`. Outside CI a
  missing tool skips the case (shown as SKIPPED above); with `CI=true` it fails.
EOF
} > "$OUTPUT"
log "wrote $OUTPUT: $tried tried, $passed passed, $failed failed, $skipped skipped, $lost data lost"

if [ "$rc" != 0 ] || [ "$failed" -gt 0 ] || [ "$lost" -gt 0 ] || [ "$skipped" -gt 0 ] || [ "$tried" = 0 ]; then
  exit 1
fi
