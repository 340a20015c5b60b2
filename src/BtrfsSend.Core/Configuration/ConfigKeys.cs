namespace BtrfsSend.Core.Configuration;

/// <summary>The keys each program reads (the shell scripts' plus this project's additions).</summary>
internal static class ConfigKeys
{
    public const string ClientPrefix = "CLIENT_";

    /// <summary>
    /// The offsite copy's keys (docs/offsite.md): the receiver's, and any program's that reads the
    /// bucket. Declared before <see cref="Receiver"/>, which spreads it (static fields initialize in text order).
    /// </summary>
    public static readonly string[] ObjectStore =
    [
        "S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_PREFIX", "S3_CREDENTIALS_FILE", "S3_LOCK_MODE", "S3_LOCK_DAYS",
        "S3_WARN_AGE", "S3_CRIT_AGE",
    ];

    public static readonly string[] Producer =
    [
        "SOURCE_TOP", "SOURCE_SUBVOL", "SNAPSHOT_DIR", "SNAPSHOT_PREFIX", "STATE_FILE",
        "BACKUP_SSH_TARGET", "BACKUP_SSH_PORT", "BACKUP_SSH_IDENTITY_FILE", "BACKUP_SET",
        "PASSPHRASE_FILE", "RECIPIENT_KEY_FILE", "SIGNING_KEY_FILE", "VERIFY_KEY_FILE", "BACKUP_MODE", "FULL_INTERVAL_DAYS",
        "LOCAL_KEEP_HOURLY", "LOCAL_KEEP_DAILY", "LOCAL_KEEP_WEEKLY", "LOCAL_KEEP_MONTHLY", "LOCAL_KEEP_YEARLY", "LOCAL_KEEP_WITHIN",
        "SERVICES_TO_QUIESCE", "LUKS_KEY_FILE", "COMPRESSION", "PRE_SNAPSHOT_HOOK", "POST_SNAPSHOT_HOOK",
        "CANARY_FILE", "LOCK_FILE", "LEDGER_FILE", "SSH_CIPHER", "SSH_OPTIONS", "SERVICES_MAY_RUN", "QUIESCE_TIMEOUT_SECONDS", "SEND_PROTO", "SEND_COMPRESSED_DATA", "IDLE_TIMEOUT_SECONDS", "BWLIMIT",

        // Read only by restore and verify --from s3:// (ConfigLoader.LoadObjectStore), so prod.conf may hold them.
        "S3_ENDPOINT", "S3_REGION", "S3_CREDENTIALS_FILE",
    ];

    public static readonly string[] ProducerArrays = ["SERVICES_TO_QUIESCE", "SERVICES_MAY_RUN", "PRE_SNAPSHOT_HOOK", "POST_SNAPSHOT_HOOK", "SSH_OPTIONS"];

    public static readonly string[] Receiver =
    [
        "BACKUP_ROOT", "BACKUP_SET", "KEEP_HOURLY", "KEEP_DAILY", "KEEP_WEEKLY", "KEEP_MONTHLY", "KEEP_YEARLY", "KEEP_WITHIN",
        "LUKS_DEVICE", "LUKS_NAME", "LUKS_MOUNT", "RECEIVED_ROOT", "LUKS_LEASE", "MAX_STREAM_SIZE", "MIN_FREE_SPACE",
        "MAX_CLOCK_SKEW", "ALLOW_GET", "LOG_FILE", "LUKS_TOOLS_DIR", "IDLE_TIMEOUT_SECONDS", "MAX_UPLOADS_PER_DAY",
        .. ObjectStore,
    ];


    /// <summary>The known key closest to <paramref name="key"/> (case-insensitive edit distance, or a key containing it), or null.</summary>
    public static string? Suggest(string key, IEnumerable<string> known)
    {
        var upper = key.ToUpperInvariant();
        var containing = known
            .Where(k => upper.Length >= 4 && (k.Contains(upper, StringComparison.Ordinal) || upper.Contains(k, StringComparison.Ordinal)))
            .OrderBy(k => Math.Abs(k.Length - upper.Length))
            .ThenBy(k => k, StringComparer.Ordinal)
            .FirstOrDefault();
        var best = known
            .Select(k => (Key: k, Distance: Distance(upper, k)))
            .OrderBy(x => x.Distance)
            .ThenBy(x => x.Key, StringComparer.Ordinal)
            .FirstOrDefault();
        if (best.Key is not null && best.Distance <= 2)
        {
            return best.Key;
        }

        if (containing is not null)
        {
            return containing;
        }

        return best.Key is not null && best.Distance <= Math.Max(1, Math.Min(3, key.Length / 3)) ? best.Key : null;
    }

    /// <summary>Levenshtein distance.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
