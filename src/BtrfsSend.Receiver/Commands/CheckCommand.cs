using System.CommandLine;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Checks;
using BtrfsSend.Receiver.Commands.Shared;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>check</c>: a Nagios/Icinga plugin. Exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN; first
/// line <c>BTRFS-BACKUP STATUS - summary | perfdata</c>, then details worst first.
/// </summary>
internal static class CheckCommand
{
    public static Command Create(ILogger log, TimeProvider clock)
    {
        var config = ReceiverConfig.CreateOption();
        var set = new Option<string?>("--set") { Description = "Only this backup set (default: every set under BACKUP_ROOT)" };
        var maxAge = new Option<string>("--max-age") { Description = "CRITICAL when a set's newest stream is older (e.g. 26h, 2d)", DefaultValueFactory = _ => "26h" };
        var warnAge = new Option<string?>("--warn-age") { Description = "WARNING when a set's newest stream is older than this" };
        var verifyData = new Option<bool>("--verify-data") { Description = "Also re-hash stream files against their manifests (size and SHA-256)" };
        var verifyLimit = new Option<int?>("--verify-limit") { Description = "With --verify-data: at most N streams per set per run, a different subset each day" };
        var json = new Option<bool>("--json") { Description = "Print a JSON document instead of the plugin output" };
        var prometheus = new Option<string?>("--prometheus") { Description = "Also write metrics to this Prometheus textfile (atomically)" };
        var check = new Command("check", "Monitoring check (Nagios plugin conventions) of the stored streams: age, chains, data, temp files, free space")
        {
            config, set, maxAge, warnAge, verifyData, verifyLimit, json, prometheus,
        };
        check.SetAction((parse, _) =>
        {
            ReceiverOptions options;
            CheckReport report;
            try
            {
                options = ReceiverConfig.Load(parse.GetValue(config)!, log);
                var settings = new HealthCheck.Settings(
                    parse.GetValue(set) is { } s ? [BackupSet.Check(s).Value ?? throw new Core.Errors.ConfigException($"--set: {BackupSet.Check(s).Error}")] : null,
                    Duration(parse.GetValue(maxAge)!, "--max-age"),
                    parse.GetValue(warnAge) is { } w ? Duration(w, "--warn-age") : null,
                    parse.GetValue(verifyData),
                    parse.GetValue(verifyLimit) is { } l && l < 1 ? throw new Core.Errors.ConfigException("--verify-limit must be at least 1") : parse.GetValue(verifyLimit));
                report = new HealthCheck(options, clock).Run(settings);
            }
            catch (Core.Errors.ConfigException ex)
            {
                Console.Out.WriteLine($"BTRFS-BACKUP UNKNOWN - {ex.Message}");
                return Task.FromResult((int)CheckStatus.Unknown);
            }

            Console.Out.Write(parse.GetValue(json) ? report.RenderJson() + "\n" : report.RenderNagios());
            if (parse.GetValue(prometheus) is { } file)
            {
                DurableFiles.Replace(file, System.Text.Encoding.UTF8.GetBytes(report.RenderPrometheus()),
                    UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            return Task.FromResult((int)report.Status);
        });
        return check;
    }

    private static TimeSpan Duration(string text, string option)
        => ConfigReader.TryDuration(text, out var d) && d > TimeSpan.Zero
            ? d
            : throw new Core.Errors.ConfigException($"{option} '{Core.Naming.NameText.Printable(text)}' is not a duration; allowed: a whole number with s, m, h, d or w (e.g. 26h)");
}
