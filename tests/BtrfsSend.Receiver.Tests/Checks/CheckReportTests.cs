using System.Text.Json;
using BtrfsSend.Receiver.Checks;
using Snapshooter;

namespace BtrfsSend.Receiver.Tests.Checks;

public sealed class CheckReportTests
{
    private static readonly CheckReport Report = new(
        [
            new CheckFinding(CheckStatus.Warning, "prod/home", "1 stale temp file(s) from interrupted uploads (removed by the next upload or prune): /b/prod/home/.tmp-1-x"),
            new CheckFinding(CheckStatus.Critical, "prod/rootfs", "newest stream root-20240308T000000Z was received 2d ago (max 26h)"),
            new CheckFinding(CheckStatus.Unknown, null, "cannot read state: /b/prod/db/x.manifest: line 2: unknown"),
        ],
        [
            new SetHealth("prod/home", 3, 3000, new DateTime(2024, 3, 10, 11, 0, 0, DateTimeKind.Utc), 3600, 0),
            new SetHealth("prod/rootfs", 5, 123456789, new DateTime(2024, 3, 8, 0, 0, 5, DateTimeKind.Utc), 216000, 2),
            new SetHealth("prod/db", 0, 0, null, null, 0),
        ],
        FreeBytes: 987654321,
        MaxAge: TimeSpan.FromHours(26));

    [Fact]
    public void The_worst_finding_decides_the_status()
        => Assert.Equal(CheckStatus.Critical, Report.Status);

    [Fact]
    public void Nagios_output_matches_its_snapshot()
        => Snapshooter.Xunit.Snapshot.Match(Report.RenderNagios(), new SnapshotNameExtension("nagios"));

    [Fact]
    public void Json_output_parses_and_matches_its_snapshot()
    {
        var json = Report.RenderJson();

        using var document = JsonDocument.Parse(json);
        Assert.Equal(2, document.RootElement.GetProperty("exit_code").GetInt32());
        Snapshooter.Xunit.Snapshot.Match(json, new SnapshotNameExtension("json"));
    }

    [Fact]
    public void Json_output_with_offsite_numbers_is_exactly_the_documented_bytes()
    {
        // Pinned byte for byte (indentation, property order, escaping of ' < & and non-ASCII,
        // null versus absent): monitoring parses this, and the serializer behind it changed once.
        var report = new CheckReport(
            [new CheckFinding(CheckStatus.Warning, "prod/home", "set 'prod/home' <S3> & caf\u00e9: 2 stream(s) not offsite")],
            [
                new SetHealth("prod/home", 3, 3000, new DateTime(2024, 3, 10, 11, 0, 0, DateTimeKind.Utc), 3600.5, 1) { NotOffsite = 2, OldestNotOffsiteAgeSeconds = 7200, BucketLocked = true },
                new SetHealth("prod/db", 1, 10, new DateTime(2024, 3, 10, 12, 0, 0, DateTimeKind.Utc), 0, 0) { NotOffsite = 0 },
                new SetHealth("prod/rootfs", 0, 0, null, null, 0),
            ],
            FreeBytes: null,
            MaxAge: TimeSpan.FromHours(26));

        Assert.Equal(
            """
            {
              "status": "WARNING",
              "exit_code": 1,
              "free_bytes": null,
              "sets": [
                {
                  "set": "prod/home",
                  "streams": 3,
                  "bytes": 3000,
                  "newest_received_at": "2024-03-10T11:00:00Z",
                  "newest_age_seconds": 3600.5,
                  "verified": 1,
                  "offsite_pending": 2,
                  "offsite_oldest_pending_age_seconds": 7200,
                  "offsite_bucket_locked": true
                },
                {
                  "set": "prod/db",
                  "streams": 1,
                  "bytes": 10,
                  "newest_received_at": "2024-03-10T12:00:00Z",
                  "newest_age_seconds": 0,
                  "verified": 0,
                  "offsite_pending": 0,
                  "offsite_oldest_pending_age_seconds": null,
                  "offsite_bucket_locked": null
                },
                {
                  "set": "prod/rootfs",
                  "streams": 0,
                  "bytes": 0,
                  "newest_received_at": null,
                  "newest_age_seconds": null,
                  "verified": 0
                }
              ],
              "findings": [
                {
                  "status": "WARNING",
                  "set": "prod/home",
                  "message": "set \u0027prod/home\u0027 \u003CS3\u003E \u0026 caf\u00E9: 2 stream(s) not offsite"
                }
              ]
            }
            """.ReplaceLineEndings("\n"),
            report.RenderJson());
    }

    [Fact]
    public void Prometheus_textfile_matches_its_snapshot()
        => Snapshooter.Xunit.Snapshot.Match(Report.RenderPrometheus(), new SnapshotNameExtension("prometheus"));

    [Fact]
    public void An_empty_report_is_OK()
        => Assert.Equal(CheckStatus.Ok, new CheckReport([], [], null, TimeSpan.FromHours(1)).Status);
}
