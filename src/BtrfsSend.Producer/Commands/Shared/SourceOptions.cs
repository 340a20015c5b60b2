using System.CommandLine;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands.Shared;

/// <summary>
/// The options restore, verify and extract share: <c>--set</c>, <c>--from PATH</c>, <c>--from s3://BUCKET/PREFIX</c>
/// (with <c>--s3-endpoint</c>, <c>--s3-region</c>, <c>--s3-credentials-file</c> or the S3_* keys of
/// <c>--config</c>) or <c>--config FILE</c> (over ssh through the receiver's get),
/// <c>--passphrase-file</c>, <c>--key-file</c>, <c>--verify-key</c>, <c>--allow-unbound</c>, <c>--bwlimit</c>.
/// </summary>
internal sealed class SourceOptions
{
    /// <summary>What makes <c>--from</c> a bucket rather than a directory.</summary>
    public const string S3Scheme = "s3://";

    public Option<string> Set { get; } = new("--set")
    {
        Description = "The backup set (e.g. prod-srv/rootfs). Default: BACKUP_SET from --config",
        Validators = { r => CheckName(r, BackupSet.Check) },
    };

    public Option<string> From { get; } = new("--from")
    {
        Description = "Read streams and manifests from this directory (a BACKUP_ROOT, or a copy of one set's directory), or from the offsite copy in a bucket (s3://BUCKET/PREFIX, as S3_BUCKET and S3_PREFIX of the receiver's replicate), instead of over ssh",
    };

    public Option<string> S3Endpoint { get; } = new("--s3-endpoint")
    {
        Description = "With --from s3://: the S3-compatible server's URL (e.g. http://127.0.0.1:7480; path-style addressing). Default: S3_ENDPOINT from --config, else AWS",
    };

    public Option<string> S3Region { get; } = new("--s3-region")
    {
        Description = $"With --from s3://: the signing region. Default: S3_REGION from --config, else {ObjectStoreOptions.DefaultRegion}",
    };

    public Option<string> S3CredentialsFile { get; } = new("--s3-credentials-file")
    {
        Description = "With --from s3://: an AWS shared-credentials file (mode 0600; [default] aws_access_key_id, aws_secret_access_key); read-only keys suffice. Default: S3_CREDENTIALS_FILE from --config",
    };

    public Option<string> Config { get; } = ProducerConfig.CreateOption();

    public Option<string> PassphraseFile { get; } = new("--passphrase-file")
    {
        Description = "File whose first line is the passphrase (as gpg --passphrase-file reads it); with --key-file, the secret key's passphrase. Default: PASSPHRASE_FILE from --config",
    };

    public Option<string> KeyFile { get; } = new("--key-file")
    {
        Description = "Secret key export (gpg --export-secret-keys) for streams encrypted to a public key (RECIPIENT_KEY_FILE)",
    };

    public Option<string> VerifyKey { get; } = new("--verify-key")
    {
        Description = "Public half of the producer's signing key (keygen's FILE.pub): streams encrypted to a public key must carry its signature. Default: VERIFY_KEY_FILE from --config",
    };

    public Option<bool> AllowUnbound { get; } = new("--allow-unbound")
    {
        Description = "Also accept streams that are unbound (made before streams carried their set, snapshot and parent) and, with --key-file, unsigned; they could come from another set or host",
    };

    public Option<string> Bwlimit { get; } = ProducerConfig.CreateBwlimitOption("read from the source (directory, ssh or bucket)");

    /// <summary>Adds the shared options to <paramref name="command"/>, then the command's <paramref name="own"/> options.</summary>
    public void AddTo(Command command, params Option[] own)
    {
        command.Options.Add(Bwlimit);
        command.Options.Add(VerifyKey);
        command.Options.Add(AllowUnbound);
        command.Options.Add(Set);
        command.Options.Add(From);
        command.Options.Add(S3Endpoint);
        command.Options.Add(S3Region);
        command.Options.Add(S3CredentialsFile);
        command.Options.Add(Config);
        command.Options.Add(PassphraseFile);
        command.Options.Add(KeyFile);
        foreach (var option in own)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// Builds the source: a bucket with <c>--from s3://</c>, a directory with any other
    /// <c>--from</c>, else ssh as the config says. The config is read when there is no
    /// <c>--from</c> or when <c>--config</c> is given explicitly.
    /// </summary>
    public RestoreInputs Resolve(ParseResult parse, ToolRunner tools, ILogger log)
    {
        var from = parse.GetValue(From);
        var configGiven = parse.GetResult(Config) is { Implicit: false };
        var options = from is null || configGiven ? ProducerConfig.Load(parse.GetValue(Config)!, log) : null;
        var setText = parse.GetValue(Set);
        var set = setText is not null
            ? BackupSet.Parse(setText)
            : options?.BackupSet ?? throw new ConfigException("no backup set: give --set NAME (or --config FILE with BACKUP_SET)");
        var isS3 = from is not null && from.StartsWith(S3Scheme, StringComparison.Ordinal);
        if (!isS3 && (parse.GetValue(S3Endpoint) ?? parse.GetValue(S3Region) ?? parse.GetValue(S3CredentialsFile)) is not null)
        {
            throw new ConfigException($"--s3-endpoint, --s3-region and --s3-credentials-file only go with --from {S3Scheme}BUCKET/PREFIX");
        }

        var limit = ProducerConfig.BandwidthLimitOf(parse, Bwlimit, options);
        IRestoreSource source = from is null ? new SshSource(ProducerConfig.Receiver(options!, tools), set) { ReadLimit = limit }
            : isS3 ? CreateS3Source(parse, from, configGiven ? parse.GetValue(Config) : null, set, options, log)
            : new DirectorySource(from, set, log) { ReadLimit = limit };

        var passphrase = parse.GetValue(PassphraseFile);
        var key = parse.GetValue(KeyFile);
        KeyFiles keys;
        if (key is not null)
        {
            keys = new KeyFiles(null, key, passphrase);
        }
        else if (passphrase is not null)
        {
            keys = new KeyFiles(passphrase, null, null);
        }
        else if (options?.RecipientKeyFilePath is { } recipient)
        {
            throw new ConfigException($"the streams are encrypted to the public key in RECIPIENT_KEY_FILE ({recipient}); give --key-file with its secret key export");
        }
        else
        {
            keys = new KeyFiles(options?.PassphraseFilePath, null, null);
        }

        keys = keys with
        {
            VerifyKeyFilePath = parse.GetValue(VerifyKey) ?? options?.VerifyKeyFilePath,
            AllowUnbound = parse.GetValue(AllowUnbound),
        };
        return new RestoreInputs(set, source, keys, options?.CanaryFilePath) { LedgerFilePath = options?.LedgerFilePath };
    }

    /// <summary>
    /// The bucket source: bucket and prefix from the URL, endpoint, region and credentials from the
    /// <c>--s3-*</c> options or else the S3_* keys of <c>--config</c>, all checked by the same rules
    /// as the receiver's S3_* keys.
    /// </summary>
    private S3Source CreateS3Source(ParseResult parse, string from, string? configFilePath, BackupSet set, ProducerOptions? options, ILogger log)
    {
        var rest = from[S3Scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (prefix.EndsWith('/'))
        {
            prefix = prefix[..^1];
        }

        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["S3_BUCKET"] = bucket,
            ["S3_PREFIX"] = prefix,
            ["S3_ENDPOINT"] = parse.GetValue(S3Endpoint),
            ["S3_REGION"] = parse.GetValue(S3Region),
            ["S3_CREDENTIALS_FILE"] = parse.GetValue(S3CredentialsFile) is { Length: > 0 } credentials ? Path.GetFullPath(credentials) : null,
        };
        var store = ProducerConfig.LoadObjectStore(configFilePath, overrides, $"--from {NameText.Printable(from)}", log);
        // Without a config, IDLE_TIMEOUT_SECONDS' default.
        return new S3Source(ObjectStoreClient.Create(store), store, set, options?.IdleTimeout ?? TimeSpan.FromSeconds(120), log)
        {
            ReadLimit = ProducerConfig.BandwidthLimitOf(parse, Bwlimit, options),
        };
    }

    /// <summary>A validator that reports a bad name as a usage error (exit 2).</summary>
    public static void CheckName<T>(System.CommandLine.Parsing.OptionResult result, Func<string?, NameCheck<T>> check)
        where T : class
    {
        foreach (var token in result.Tokens)
        {
            var checkResult = check(token.Value);
            if (checkResult.Value is null)
            {
                result.AddError($"{result.Option.Name}: {checkResult.Error}");
            }
        }
    }
}
