using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands.Base;

/// <summary>
/// The options restore and verify share: <c>--set</c>, <c>--from PATH</c> or <c>--config FILE</c>
/// (over ssh through the receiver's get), <c>--passphrase-file</c>, <c>--key-file</c>,
/// <c>--verify-key</c>, <c>--allow-unbound</c>.
/// </summary>
internal sealed class SourceOptions
{
    public Option<string> Set { get; } = new("--set")
    {
        Description = "The backup set (e.g. prod-srv/rootfs). Default: BACKUP_SET from --config",
        Validators = { r => CheckName(r, BackupSet.Check) },
    };

    public Option<string> From { get; } = new("--from")
    {
        Description = "Read streams and manifests from this directory (a BACKUP_ROOT, or a copy of one set's directory) instead of over ssh",
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

    public void AddTo(Command command)
    {
        command.Options.Add(VerifyKey);
        command.Options.Add(AllowUnbound);
        command.Options.Add(Set);
        command.Options.Add(From);
        command.Options.Add(Config);
        command.Options.Add(PassphraseFile);
        command.Options.Add(KeyFile);
    }

    /// <summary>
    /// Builds the source: a directory with <c>--from</c>, else ssh as the config says. The config
    /// is read when there is no <c>--from</c> or when <c>--config</c> is given explicitly.
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
        IRestoreSource source = from is not null
            ? new DirectorySource(from, set, log)
            : new SshSource(ProducerConfig.Receiver(options!, tools), set);

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
