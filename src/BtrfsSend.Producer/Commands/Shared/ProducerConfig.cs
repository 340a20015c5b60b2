using System.Collections;
using System.CommandLine;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Transport;
using BtrfsSend.Producer.Connection;
using Serilog;

namespace BtrfsSend.Producer.Commands.Shared;

/// <summary>The <c>--config</c> option, loading prod.conf once, and building the receiver client from it.</summary>
internal static class ProducerConfig
{
    public const string DefaultFilePath = "/etc/btrfs-send-backup/prod.conf";

    public static Option<string> CreateOption() => new("--config")
    {
        Description = $"The producer's settings (the prod.conf of prod-btrfs-backup.sh, shell-style KEY=value). Default: {DefaultFilePath}",
        DefaultValueFactory = _ => DefaultFilePath,
    };

    /// <summary><c>--bwlimit RATE</c> (run, restore, verify): overrides BWLIMIT; a bad rate is a usage error.</summary>
    public static Option<string> CreateBwlimitOption(string what) => new("--bwlimit")
    {
        Description = $"At most this many bytes per second {what} (K, M, G: powers of 1024, e.g. 20M; 0: no limit). Default: BWLIMIT from --config, else no limit",
        Validators =
        {
            r =>
            {
                foreach (var token in r.Tokens)
                {
                    if (!BandwidthLimit.TryParse(token.Value, out _, out var problem))
                    {
                        r.AddError($"--bwlimit: {problem}");
                    }
                }
            },
        },
    };

    /// <summary>The limit <c>--bwlimit</c> gives, else BWLIMIT of <paramref name="options"/> (null: none).</summary>
    public static long? BandwidthLimitOf(ParseResult parse, Option<string> option, ProducerOptions? options)
        => parse.GetValue(option) is { } text && BandwidthLimit.TryParse(text, out var limit, out _) ? limit : options?.BandwidthLimit;

    public static ProducerOptions Load(string filePath, ILogger log)
    {
        var result = ConfigLoader.LoadProducer(filePath, EnvironmentVariables(), new Dictionary<string, string?>());
        foreach (var warning in result.Warnings)
        {
            log.Warning("config: {Warning}", warning.ToString());
        }

        if (!result.IsValid)
        {
            foreach (var error in result.Errors)
            {
                log.Error("config: {Error}", error.ToString());
            }

            throw new ConfigException($"{filePath}: configuration invalid ({result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")}); nothing was touched: {string.Join("; ", result.Errors.Select(e => e.ToString()))}");
        }

        return result.Options!;
    }

    /// <summary>
    /// The S3_* settings for reading the offsite copy: <paramref name="overrides"/> (from the
    /// command line) over the environment over <paramref name="filePath"/> (a prod.conf, or any
    /// config holding S3_* keys; null = none). Throws <see cref="ConfigException"/> naming
    /// <paramref name="what"/> and every problem.
    /// </summary>
    public static ObjectStoreOptions LoadObjectStore(string? filePath, IReadOnlyDictionary<string, string?> overrides, string what, ILogger log)
    {
        var result = ConfigLoader.LoadObjectStore(filePath, EnvironmentVariables(), overrides);
        foreach (var warning in result.Warnings)
        {
            log.Warning("config: {Warning}", warning.ToString());
        }

        return result.IsValid
            ? result.Options!
            : throw new ConfigException($"{what}: {string.Join("; ", result.Errors.Select(e => e.ToString()))}");
    }

    public static ReceiverClient Receiver(ProducerOptions options, ToolRunner tools) => new(new SshArgv
    {
        Target = options.SshTarget,
        Port = options.SshPort == 22 ? null : options.SshPort,
        IdentityFilePath = options.SshIdentityFilePath,
        Cipher = options.SshCipher,
        DefaultCiphers = SshArgv.DefaultCiphersForThisCpu,
        ExtraOptions = options.SshOptions,
    }, tools)
    {
        IdleTimeout = options.IdleTimeout,
    };

    private static Dictionary<string, string?> EnvironmentVariables()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = (string?)entry.Value;
        }

        return environment;
    }
}
