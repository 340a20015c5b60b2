using System.Globalization;
using System.Text;
using System.Text.Json;

namespace BtrfsSend.Receiver.Checks;

/// <summary>The result of a check, rendered the Nagios way, as JSON or as a Prometheus textfile.</summary>
internal sealed record CheckReport(IReadOnlyList<CheckFinding> Findings, IReadOnlyList<SetHealth> Sets, long? FreeBytes, TimeSpan MaxAge)
{
    public CheckStatus Status => Findings.Count == 0 ? CheckStatus.Ok : Findings.MaxBy(f => f.Severity)!.Status;

    private IEnumerable<CheckFinding> WorstFirst => Findings.OrderByDescending(f => f.Severity);

    /// <summary>First line <c>STATUS - summary | perfdata</c>, then the details, worst first.</summary>
    public string RenderNagios()
    {
        var sb = new StringBuilder();
        var problems = WorstFirst.Where(f => f.Status != CheckStatus.Ok).ToList();
        var summary = problems.Count == 0
            ? $"{Sets.Count} set(s), {Sets.Sum(s => s.Streams)} stream(s), {Sets.Sum(s => s.Bytes)} bytes; newest {Describe(Sets.Select(s => s.NewestAgeSeconds).Max())} ago"
            : problems[0].Render()[(CheckFinding.Label(problems[0].Status).Length + 2)..] + (problems.Count > 1 ? $" (+{problems.Count - 1} more)" : "");
        sb.Append(CultureInfo.InvariantCulture, $"BTRFS-BACKUP {CheckFinding.Label(Status)} - {summary} | {PerfData()}\n");
        foreach (var finding in WorstFirst)
        {
            sb.Append(finding.Render()).Append('\n');
        }

        return sb.ToString();
    }

    public string RenderJson() => JsonSerializer.Serialize(
        new CheckJson(
            CheckFinding.Label(Status),
            (int)Status,
            FreeBytes,
            [.. Sets.Select(SetJson.Of)],
            [.. WorstFirst.Select(f => new FindingJson(CheckFinding.Label(f.Status), f.Set, f.Message))]),
        CheckJsonContext.Default.CheckJson);

    /// <summary>Prometheus text exposition format, for node_exporter's textfile collector.</summary>
    public string RenderPrometheus()
    {
        var sb = new StringBuilder();
        sb.Append("# HELP btrfs_backup_check_status 0=OK 1=WARNING 2=CRITICAL 3=UNKNOWN\n# TYPE btrfs_backup_check_status gauge\n");
        sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_check_status {(int)Status}\n");
        sb.Append("# HELP btrfs_backup_last_success_timestamp_seconds receiver time of the newest committed stream\n# TYPE btrfs_backup_last_success_timestamp_seconds gauge\n");
        foreach (var s in Sets.Where(s => s.NewestReceivedAtUtc is not null))
        {
            sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_last_success_timestamp_seconds{{set=\"{s.Set}\"}} {new DateTimeOffset(s.NewestReceivedAtUtc!.Value, TimeSpan.Zero).ToUnixTimeSeconds()}\n");
        }

        sb.Append("# HELP btrfs_backup_streams committed streams per set\n# TYPE btrfs_backup_streams gauge\n");
        foreach (var s in Sets)
        {
            sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_streams{{set=\"{s.Set}\"}} {s.Streams}\n");
        }

        sb.Append("# HELP btrfs_backup_bytes bytes of committed streams per set\n# TYPE btrfs_backup_bytes gauge\n");
        foreach (var s in Sets)
        {
            sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_bytes{{set=\"{s.Set}\"}} {s.Bytes}\n");
        }

        var offsite = Sets.Where(s => s.NotOffsite is not null).ToList();
        if (offsite.Count > 0)
        {
            sb.Append("# HELP btrfs_backup_offsite_pending_streams committed streams not yet copied to the S3 bucket\n# TYPE btrfs_backup_offsite_pending_streams gauge\n");
            foreach (var s in offsite)
            {
                sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_offsite_pending_streams{{set=\"{s.Set}\"}} {s.NotOffsite}\n");
            }

            sb.Append("# HELP btrfs_backup_offsite_oldest_pending_age_seconds how long the oldest stream not yet offsite has waited (0 = none)\n# TYPE btrfs_backup_offsite_oldest_pending_age_seconds gauge\n");
            foreach (var s in offsite)
            {
                sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_offsite_oldest_pending_age_seconds{{set=\"{s.Set}\"}} {(long)(s.OldestNotOffsiteAgeSeconds ?? 0)}\n");
            }

            sb.Append("# HELP btrfs_backup_offsite_bucket_locked 1 when the last replicate found Object Lock on the bucket, 0 when not\n# TYPE btrfs_backup_offsite_bucket_locked gauge\n");
            foreach (var s in offsite.Where(s => s.BucketLocked is not null))
            {
                sb.Append(CultureInfo.InvariantCulture, $"btrfs_backup_offsite_bucket_locked{{set=\"{s.Set}\"}} {(s.BucketLocked == true ? 1 : 0)}\n");
            }
        }

        if (FreeBytes is { } free)
        {
            sb.Append(CultureInfo.InvariantCulture, $"# HELP btrfs_backup_free_bytes free bytes under BACKUP_ROOT\n# TYPE btrfs_backup_free_bytes gauge\nbtrfs_backup_free_bytes {free}\n");
        }

        return sb.ToString();
    }

    private string PerfData()
    {
        var parts = new List<string>();
        foreach (var s in Sets)
        {
            if (s.NewestAgeSeconds is { } age)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"'{s.Set} age'={(long)age}s;;{(long)MaxAge.TotalSeconds}"));
            }

            parts.Add(string.Create(CultureInfo.InvariantCulture, $"'{s.Set} streams'={s.Streams}"));
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"'{s.Set} bytes'={s.Bytes}B"));
        }

        if (FreeBytes is { } free)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"free={free}B"));
        }

        return string.Join(' ', parts);
    }

    private static string Describe(double? seconds) => seconds is { } s
        ? Core.Retention.RetentionPolicy.FormatDuration(TimeSpan.FromSeconds(Math.Max(0, Math.Round(s))))
        : "-";
}
