using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using Microsoft.Extensions.Configuration;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// Loads and validates configuration once, in layers: defaults &lt; shell-style file &lt;
/// environment variables with the same names &lt; command-line overrides. Every error is returned at
/// once; unknown file keys are warnings with a "did you mean" suggestion.
/// </summary>
public static class ConfigLoader
{
    public const string ReceiverDefaultFilePath = "/etc/default/btrfs-backup-receive";
    public const string Environment = "environment";
    public const string CommandLine = "command line";

    private const string SshTargetRule = "[user@]host with user [A-Za-z0-9._-] and host [A-Za-z0-9._:-], not starting with '-'";
    private const string UnitRule = "systemd unit names [A-Za-z0-9:_.@-], not starting with '-'";

    /// <summary>Loads the producer's prod.conf (required) with environment and command-line overrides.</summary>
    public static ConfigResult<ProducerOptions> LoadProducer(
        string filePath,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyDictionary<string, string?> overrides)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        var r = Layer(filePath, fileRequired: true, ConfigKeys.Producer, ConfigKeys.ProducerArrays, allowClients: false, environment, overrides);

        var sourceTop = r.AbsolutePath("SOURCE_TOP", required: true);
        var subvol = r.Required("SOURCE_SUBVOL", "a subvolume path relative to SOURCE_TOP, e.g. @rootfs");
        if (subvol is not null && (subvol.StartsWith('/') || subvol.Split('/').Any(s => s is "" or "." or "..") || subvol.Any(char.IsControl)))
        {
            r.Error("SOURCE_SUBVOL", $"'{NameText.Printable(subvol)}' is not allowed; allowed: a path relative to SOURCE_TOP without empty, '.' or '..' segments, e.g. @rootfs");
            subvol = null;
        }

        var snapshotDir = r.AbsolutePath("SNAPSHOT_DIR", required: true);
        var prefix = r.Required("SNAPSHOT_PREFIX", SnapshotName.PrefixRule);
        if (prefix is not null && SnapshotName.PrefixProblem(prefix) is { } prefixProblem)
        {
            r.Error("SNAPSHOT_PREFIX", $"'{NameText.Printable(prefix)}': {prefixProblem}; allowed: {SnapshotName.PrefixRule}");
            prefix = null;
        }

        var stateFile = r.AbsolutePath("STATE_FILE", required: true);
        var lockFile = r.AbsolutePath("LOCK_FILE", required: false) ?? (stateFile is null ? null : stateFile + ".lock");
        var ledgerFile = r.AbsolutePath("LEDGER_FILE", required: false) ?? (stateFile is null ? null : stateFile + ".ledger");

        var target = r.Required("BACKUP_SSH_TARGET", SshTargetRule);
        if (target is not null && !IsSshTarget(target))
        {
            r.Error("BACKUP_SSH_TARGET", $"'{NameText.Printable(target)}' is not allowed; allowed: {SshTargetRule}");
            target = null;
        }

        var port = r.Int("BACKUP_SSH_PORT", 22, 1, 65535);
        var identity = r.AbsolutePath("BACKUP_SSH_IDENTITY_FILE", required: false);
        var cipher = r.Text("SSH_CIPHER");
        if (cipher is not null && (cipher[0] == '-' || !cipher.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '@' or '.' or ',' or '-')))
        {
            r.Error("SSH_CIPHER", $"'{NameText.Printable(cipher)}' is not allowed; allowed: ssh cipher names [a-z0-9@.,-], e.g. aes128-gcm@openssh.com");
            cipher = null;
        }

        var set = BackupSetValue(r, "BACKUP_SET", required: true);
        var mode = r.Choice("BACKUP_MODE", BackupMode.EncryptedStream, ("encrypted-stream", BackupMode.EncryptedStream), ("remote-btrfs", BackupMode.RemoteBtrfs));
        var passphrase = r.AbsolutePath("PASSPHRASE_FILE", required: false);
        var recipient = r.AbsolutePath("RECIPIENT_KEY_FILE", required: false);
        var signing = r.AbsolutePath("SIGNING_KEY_FILE", required: false);
        var verify = r.AbsolutePath("VERIFY_KEY_FILE", required: false);
        if (verify is not null && !File.Exists(verify))
        {
            r.Error("VERIFY_KEY_FILE", $"'{NameText.Printable(verify)}' does not exist; allowed: the public key file 'btrfs-send-backup keygen' wrote (FILE.pub)");
        }
        var luksKey = r.AbsolutePath("LUKS_KEY_FILE", required: false);
        if (mode == BackupMode.EncryptedStream)
        {
            if (recipient is not null)
            {
                if (!File.Exists(recipient))
                {
                    r.Error("RECIPIENT_KEY_FILE", $"'{NameText.Printable(recipient)}' does not exist; allowed: an OpenPGP public key file");
                }

                if (passphrase is not null)
                {
                    r.Warning("PASSPHRASE_FILE", "is ignored because RECIPIENT_KEY_FILE is set (streams are encrypted to the public key)");
                    passphrase = null;
                }

                if (signing is null)
                {
                    r.Error("SIGNING_KEY_FILE", "is required with RECIPIENT_KEY_FILE: anyone holding the public key can encrypt a stream, so streams are signed; create it with 'btrfs-send-backup keygen --signing-key FILE'; allowed: " + ConfigReader.PathRule + " to a file with mode 0600 or 0400");
                }
                else
                {
                    r.SecretFile("SIGNING_KEY_FILE", signing);
                }
            }
            else if (signing is not null)
            {
                r.Warning("SIGNING_KEY_FILE", "is ignored without RECIPIENT_KEY_FILE (with PASSPHRASE_FILE the passphrase authenticates the streams)");
                signing = null;
            }
            else if (passphrase is null)
            {
                if (r.Errors.All(e => e.Key != "PASSPHRASE_FILE"))
                {
                    r.Error("PASSPHRASE_FILE", "is required in BACKUP_MODE=encrypted-stream unless RECIPIENT_KEY_FILE is set; allowed: " + ConfigReader.PathRule + " to a file with mode 0600 or 0400");
                }
            }
            else
            {
                r.SecretFile("PASSPHRASE_FILE", passphrase);
            }
        }
        else
        {
            passphrase = null;
            recipient = null;
            if (luksKey is null)
            {
                if (r.Errors.All(e => e.Key != "LUKS_KEY_FILE"))
                {
                    r.Error("LUKS_KEY_FILE", "is required in BACKUP_MODE=remote-btrfs; allowed: " + ConfigReader.PathRule + " to a file with mode 0600 or 0400");
                }
            }
            else
            {
                r.SecretFile("LUKS_KEY_FILE", luksKey);
            }
        }

        var fullInterval = r.Int("FULL_INTERVAL_DAYS", 32, 1, 1_000_000);
        var producerIdleSeconds = r.Int("IDLE_TIMEOUT_SECONDS", 120, 1, 86400);
        long? bandwidthLimit = null;
        if (r.Text("BWLIMIT") is { } bwlimit && !BandwidthLimit.TryParse(bwlimit, out bandwidthLimit, out var bwProblem))
        {
            r.Error("BWLIMIT", bwProblem!);
        }
        var keep = Keep(r, "LOCAL_KEEP_");
        var services = r.Words("SERVICES_TO_QUIESCE");
        foreach (var unit in services)
        {
            if (unit.Length == 0 || unit[0] == '-' || !unit.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '.' or '@' or '-'))
            {
                r.Error("SERVICES_TO_QUIESCE", $"'{NameText.Printable(unit)}' is not a unit name; allowed: {UnitRule}");
            }
        }

        var mayRun = r.Words("SERVICES_MAY_RUN");
        foreach (var unit in mayRun.Where(u => !services.Contains(u, StringComparer.Ordinal)))
        {
            r.Error("SERVICES_MAY_RUN", $"'{NameText.Printable(unit)}' is not in SERVICES_TO_QUIESCE; allowed: units listed in SERVICES_TO_QUIESCE whose snapshot may be taken while they run");
        }

        var compression = r.Choice("COMPRESSION", StreamCompression.None, ("none", StreamCompression.None), ("zstd", StreamCompression.Zstd));
        var quiesceTimeout = r.Int("QUIESCE_TIMEOUT_SECONDS", 300, 10, 86400);
        var sendProto = r.Choice("SEND_PROTO", SendProtoSetting.V1, ("1", SendProtoSetting.V1), ("2", SendProtoSetting.V2), ("auto", SendProtoSetting.Auto));
        var sendCompressedData = r.YesNo("SEND_COMPRESSED_DATA", false);
        if (sendCompressedData && sendProto == SendProtoSetting.V1 && r.Errors.All(e => e.Key != "SEND_PROTO"))
        {
            r.Error("SEND_COMPRESSED_DATA", "yes needs send protocol 2, but SEND_PROTO is 1 (the default); allowed: SEND_COMPRESSED_DATA=no, or SEND_PROTO=2 or auto");
        }

        var preHook = Hook(r, "PRE_SNAPSHOT_HOOK");
        var postHook = Hook(r, "POST_SNAPSHOT_HOOK");
        var canary = CanaryFile(r);
        var sshOptions = r.Words("SSH_OPTIONS");
        foreach (var option in sshOptions)
        {
            var eq = option.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !option[..eq].All(char.IsAsciiLetterOrDigit)
                || string.Equals(option[..eq], "ProxyCommand", StringComparison.OrdinalIgnoreCase)
                || string.Equals(option[..eq], "LocalCommand", StringComparison.OrdinalIgnoreCase))
            {
                r.Error("SSH_OPTIONS", $"'{NameText.Printable(option)}' is not allowed; allowed: ssh -o options written as Key=value (e.g. UserKnownHostsFile=/etc/btrfs-send-backup/known_hosts), not ProxyCommand/LocalCommand");
            }
        }

        if (r.Errors.Count > 0 || sourceTop is null || subvol is null || snapshotDir is null || prefix is null
            || stateFile is null || lockFile is null || ledgerFile is null || target is null || set is null)
        {
            return new ConfigResult<ProducerOptions>(null, r.Errors, r.Warnings);
        }

        var options = new ProducerOptions
        {
            SourceTopDirPath = sourceTop,
            SourceSubvol = subvol,
            SnapshotDirPath = snapshotDir,
            SnapshotPrefix = prefix,
            StateFilePath = stateFile,
            LockFilePath = lockFile,
            LedgerFilePath = ledgerFile,
            SshTarget = target,
            SshPort = port,
            SshIdentityFilePath = identity,
            SshCipher = cipher,
            BackupSet = set,
            Mode = mode,
            PassphraseFilePath = passphrase,
            RecipientKeyFilePath = recipient,
            SigningKeyFilePath = mode == BackupMode.EncryptedStream ? signing : null,
            VerifyKeyFilePath = verify,
            LuksKeyFilePath = mode == BackupMode.RemoteBtrfs ? luksKey : null,
            FullIntervalDays = fullInterval,
            IdleTimeout = TimeSpan.FromSeconds(producerIdleSeconds),
            BandwidthLimit = bandwidthLimit,
            LocalKeep = keep,
            ServicesToQuiesce = services,
            ServicesMayRun = mayRun,
            Compression = compression,
            QuiesceTimeoutSeconds = quiesceTimeout,
            SendProto = sendProto,
            SendCompressedData = sendCompressedData,
            PreSnapshotHook = preHook,
            PostSnapshotHook = postHook,
            CanaryFilePath = canary,
            SshOptions = sshOptions,
        };
        return new ConfigResult<ProducerOptions>(options, r.Errors, r.Warnings);
    }

    /// <summary>CANARY_FILE: a path relative to the source subvolume, inside it; unset or empty = no canary.</summary>
    private static string? CanaryFile(ConfigReader r)
    {
        const string allowed = "a path relative to the source subvolume (e.g. .btrfs-send-canary), without '..', '.' or empty segments, no control characters";
        var v = r.Text("CANARY_FILE");
        if (v is null)
        {
            return null;
        }

        var problem = v.StartsWith('/') ? "is absolute"
            : v.Any(char.IsControl) ? "contains a control character (NUL, newline, ...)"
            : v.Split('/').Any(s => s is "" or "." or "..") ? "has a '..', '.' or empty segment"
            : null;
        if (problem is not null)
        {
            r.Error("CANARY_FILE", $"'{NameText.Printable(v)}' {problem}; allowed: {allowed}");
            return null;
        }

        return v;
    }

    /// <summary>
    /// Loads the receiver's settings. <paramref name="filePath"/> may be null or missing (defaults +
    /// environment, as backup-prune-btrfs-streams.sh's cron line runs it).
    /// </summary>
    public static ConfigResult<ReceiverOptions> LoadReceiver(
        string? filePath,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyDictionary<string, string?> overrides)
    {
        var r = Layer(filePath, fileRequired: false, ConfigKeys.Receiver, [], allowClients: true, environment, overrides);
        var root = r.AbsolutePath("BACKUP_ROOT", required: false) ?? ReceiverOptions.DefaultBackupRootDirPath;
        var set = BackupSetValue(r, "BACKUP_SET", required: false);
        var keep = Keep(r, "KEEP_");
        var luksDevice = r.AbsolutePath("LUKS_DEVICE", required: false);
        var luksName = r.Text("LUKS_NAME");
        if (luksName is not null && (luksName.Length > 127 || !luksName.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') || luksName[0] is '-' or '.'))
        {
            r.Error("LUKS_NAME", $"'{NameText.Printable(luksName)}' is not allowed; allowed: a device-mapper name [A-Za-z0-9_.-], not starting with '-' or '.', at most 127 characters");
            luksName = null;
        }

        var luksMount = r.AbsolutePath("LUKS_MOUNT", required: false);
        var receivedRoot = r.AbsolutePath("RECEIVED_ROOT", required: false);
        var luksTools = r.AbsolutePath("LUKS_TOOLS_DIR", required: false);
        var lease = r.Duration("LUKS_LEASE", TimeSpan.FromHours(6), TimeSpan.FromMinutes(1))!.Value;
        var maxStream = r.Size("MAX_STREAM_SIZE", 1L << 40, 1);
        var minFree = r.Size("MIN_FREE_SPACE", 1L << 30, 0);
        var skew = r.Duration("MAX_CLOCK_SKEW", TimeSpan.FromHours(24), TimeSpan.FromMinutes(1))!.Value;
        var allowGet = r.YesNo("ALLOW_GET", true);
        var logFile = r.AbsolutePath("LOG_FILE", required: false);
        var idleSeconds = r.Int("IDLE_TIMEOUT_SECONDS", 120, 1, 86400);
        var maxUploads = r.Int("MAX_UPLOADS_PER_DAY", 48, 0, 100000);
        var objectStore = ObjectStoreConfig.Read(r);

        var clients = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var section in r.Root.GetChildren().Where(c => c.Key.StartsWith(ConfigKeys.ClientPrefix, StringComparison.Ordinal)))
        {
            var name = section.Key[ConfigKeys.ClientPrefix.Length..];
            if (ClientName.Problem(name) is { } problem)
            {
                r.Error(section.Key, problem);
                continue;
            }

            var prefixes = r.Words(section.Key);
            foreach (var p in prefixes)
            {
                var setPart = p.EndsWith('/') ? p[..^1] : p;
                if (!BackupSet.Check(setPart).IsValid)
                {
                    r.Error(section.Key, $"'{NameText.Printable(p)}' is not a set prefix; allowed: space-separated backup sets ({BackupSet.Rule}), optionally ending in '/' to allow every set below");
                }
            }

            if (prefixes.Count == 0)
            {
                r.Warning(section.Key, "lists no set prefixes: this client is allowed no set");
            }

            clients[name] = prefixes;
        }

        if (r.Errors.Count > 0)
        {
            return new ConfigResult<ReceiverOptions>(null, r.Errors, r.Warnings);
        }

        var options = new ReceiverOptions
        {
            BackupRootDirPath = root,
            BackupSet = set,
            Keep = keep,
            LuksDevicePath = luksDevice,
            LuksName = luksName,
            LuksMountDirPath = luksMount,
            ReceivedRootDirPath = receivedRoot,
            LuksToolsDirPath = luksTools,
            LuksLease = lease,
            MaxStreamSize = maxStream,
            MinFreeSpace = minFree,
            MaxClockSkew = skew,
            AllowGet = allowGet,
            LogFilePath = logFile,
            IdleTimeout = TimeSpan.FromSeconds(idleSeconds),
            MaxUploadsPerDay = maxUploads,
            ObjectStore = objectStore,
            ClientSetPrefixes = clients,
        };
        return new ConfigResult<ReceiverOptions>(options, r.Errors, r.Warnings);
    }

    /// <summary>
    /// Loads only the S3_* keys from any of this project's config files (the receiver's, or a
    /// producer's prod.conf), environment and overrides; the other keys of either program are
    /// ignored without a warning. The result's options are null when S3_BUCKET is unset.
    /// </summary>
    public static ConfigResult<ObjectStoreOptions> LoadObjectStore(
        string? filePath,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyDictionary<string, string?> overrides)
    {
        string[] known = [.. ConfigKeys.Producer, .. ConfigKeys.Receiver];
        var r = Layer(filePath, fileRequired: filePath is not null, known, ConfigKeys.ProducerArrays, allowClients: true, environment, overrides);
        var options = ObjectStoreConfig.Read(r);
        if (options is null && r.Errors.Count == 0)
        {
            r.Error("S3_BUCKET", "is required; allowed: " + ObjectStoreConfig.BucketRule);
        }

        return new ConfigResult<ObjectStoreOptions>(r.Errors.Count > 0 ? null : options, r.Errors, r.Warnings);
    }

    private static ConfigReader Layer(
        string? filePath,
        bool fileRequired,
        string[] known,
        string[] arrays,
        bool allowClients,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyDictionary<string, string?> overrides)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(overrides);
        bool IsKnown(string key) => known.Contains(key, StringComparer.Ordinal) || (allowClients && key.StartsWith(ConfigKeys.ClientPrefix, StringComparison.Ordinal));

        var errors = new List<ConfigIssue>();
        var warnings = new List<ConfigIssue>();
        var builder = new ConfigurationBuilder();
        var names = new List<string?>();
        if (filePath is not null)
        {
            string? text = null;
            try
            {
                text = File.ReadAllText(filePath);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                if (fileRequired)
                {
                    errors.Add(new ConfigIssue("config file", filePath, "does not exist; allowed: a readable file of KEY=value lines"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(new ConfigIssue("config file", filePath, $"cannot be read ({e.GetType().Name}); allowed: a readable file of KEY=value lines"));
            }

            if (text is not null)
            {
                var parsed = ShellConfigParser.Parse(text);
                foreach (var e in parsed.Errors)
                {
                    errors.Add(new ConfigIssue(e.Key.Length > 0 ? e.Key : "syntax", $"{filePath}:{e.Line}", e.Message));
                }

                var kept = KeptAssignments(parsed.Assignments, filePath, known, arrays, IsKnown, errors, warnings);
                builder.Add(new ShellConfigurationSource(filePath, kept));
                names.Add(null);
            }
        }

        // Empty environment variables count as unset, like the shell scripts' ${KEY:-default}: a stray
        // KEEP_DAILY= in a cron line must not silently shrink the retention policy.
        var env = environment
            .Where(kv => IsKnown(kv.Key) && !string.IsNullOrEmpty(kv.Value))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        builder.AddInMemoryCollection(env);
        names.Add(Environment);

        var cli = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in overrides)
        {
            if (!IsKnown(key))
            {
                var suggestion = ConfigKeys.Suggest(key, known);
                errors.Add(new ConfigIssue(key, CommandLine, suggestion is null ? "unknown key" : $"unknown key; did you mean {suggestion}?"));
            }
            else if (value is not null)
            {
                cli[key] = value;
            }
        }

        builder.AddInMemoryCollection(cli);
        names.Add(CommandLine);

        var reader = new ConfigReader(builder.Build(), names);
        reader.Errors.AddRange(errors);
        reader.Warnings.AddRange(warnings);
        return reader;
    }

    /// <summary>
    /// The file's assignments that count: unknown keys are warned about and dropped, arrays where
    /// a single value is allowed are errors, and a key set again is warned about (the last wins).
    /// </summary>
    private static List<ShellAssignment> KeptAssignments(
        IReadOnlyList<ShellAssignment> assignments, string filePath, string[] known, string[] arrays, Func<string, bool> isKnown, List<ConfigIssue> errors, List<ConfigIssue> warnings)
    {
        var kept = new List<ShellAssignment>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var a in assignments)
        {
            var where = $"{filePath}:{a.Line}";
            if (!isKnown(a.Key))
            {
                var suggestion = ConfigKeys.Suggest(a.Key, known);
                warnings.Add(new ConfigIssue(a.Key, where, suggestion is null
                    ? "unknown key, ignored"
                    : $"unknown key, ignored; did you mean {suggestion}?"));
                continue;
            }

            if (a.IsArray && !arrays.Contains(a.Key) && !a.Key.StartsWith(ConfigKeys.ClientPrefix, StringComparison.Ordinal))
            {
                errors.Add(new ConfigIssue(a.Key, where, $"is a bash array; allowed: a single value (only {string.Join(", ", arrays.DefaultIfEmpty("no key"))} take arrays)"));
                continue;
            }

            if (firstLine.TryGetValue(a.Key, out var first))
            {
                warnings.Add(new ConfigIssue(a.Key, where, $"is set again (first on line {first}); the last one wins, as in bash"));
            }
            else
            {
                firstLine[a.Key] = a.Line;
            }

            kept.Add(a);
        }

        return kept;
    }

    private static BackupSet? BackupSetValue(ConfigReader r, string key, bool required)
    {
        var v = required ? r.Required(key, BackupSet.Rule) : r.Text(key);
        if (v is null)
        {
            return null;
        }

        var check = BackupSet.Check(v);
        if (check.Error is not null)
        {
            r.Error(key, check.Error);
        }

        return check.Value;
    }

    private static RetentionPolicy Keep(ConfigReader r, string prefix) => new(
        r.Int(prefix + "HOURLY", 0, 0, 1_000_000),
        r.Int(prefix + "DAILY", 0, 0, 1_000_000),
        r.Int(prefix + "WEEKLY", 0, 0, 1_000_000),
        r.Int(prefix + "MONTHLY", 0, 0, 1_000_000),
        r.Int(prefix + "YEARLY", 0, 0, 1_000_000),
        r.Duration(prefix + "WITHIN", null, TimeSpan.FromSeconds(1)));

    private static IReadOnlyList<string> Hook(ConfigReader r, string key)
    {
        var argv = r.Words(key);
        if (argv.Count > 0 && (!argv[0].StartsWith('/') || argv.Any(a => a.Any(char.IsControl))))
        {
            r.Error(key, $"'{NameText.Printable(argv[0])}' is not an absolute program path; allowed: a bash array whose first word is an absolute path, e.g. (/usr/local/bin/hook --flag)");
            return [];
        }

        return argv;
    }

    private static bool IsSshTarget(string target)
    {
        var at = target.LastIndexOf('@');
        var user = at >= 0 ? target[..at] : null;
        var host = target[(at + 1)..];
        return target[0] != '-'
            && (user is null || (user.Length > 0 && user.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            && host.Length > 0 && host[0] != '-'
            && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');
    }
}
