using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Serve;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionRateLimitTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [RealFact("stat")]
    public async Task An_upload_over_MAX_UPLOADS_PER_DAY_is_rate_limited_before_any_byte_is_stored_and_the_refusal_is_recorded()
    {
        _h.Options = _h.Options with { MaxUploadsPerDay = 3 };
        _h.StoreDirect("s", Name(30), Now.UtcDateTime.AddHours(-30)); // older than 24 h: not counted
        _h.StoreDirect("s", Name(20), Now.UtcDateTime.AddHours(-20));
        _h.StoreDirect("s", Name(10), Now.UtcDateTime.AddHours(-10));
        var third = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 1]));
        var before = _h.Tree();

        var refused = await _h.ServeAsync($"receive-stream s {Name(0.5)} full", Framing.Frame([0x8C, 2]));

        Assert.Equal(0, third.ExitCode);
        Assert.Equal(5, refused.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.RateLimited} set 's' already has 3 uploads in the last 24 hours", Assert.Single(refused.StdoutLines), StringComparison.Ordinal);
        Assert.Contains(refused.Log, l => l.Contains("MAX_UPLOADS_PER_DAY=3", StringComparison.Ordinal));
        var after = _h.Tree();
        var ledger = UploadRate.RefusedFileName;
        Assert.Equal(before, new SortedDictionary<string, string>(after.Where(kv => kv.Key != $"s/{ledger}").ToDictionary(), StringComparer.Ordinal));
        var record = Path.Combine(_h.SetDirPath("s"), ledger);
        Assert.Equal($"2024-03-10T12:00:00Z {Name(0.5)}", File.ReadAllText(record).TrimEnd('\n'));
        Assert.Equal("0:0 600", Stat(record));
        Assert.Empty(_h.Temps());
    }

    [Fact]
    public async Task Once_the_oldest_counted_upload_is_24_hours_old_the_set_accepts_again()
    {
        _h.Options = _h.Options with { MaxUploadsPerDay = 2 };
        _h.StoreDirect("s", Name(20), Now.UtcDateTime.AddHours(-20));
        _h.StoreDirect("s", Name(10), Now.UtcDateTime.AddHours(-10));
        var refused = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 1]));
        _h.Clock.Now = Now.AddHours(4.5);

        var accepted = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 1]));

        Assert.Equal(5, refused.ExitCode);
        Assert.Equal(0, accepted.ExitCode);
    }

    [Fact]
    public async Task MAX_UPLOADS_PER_DAY_0_means_no_cap()
    {
        _h.Options = _h.Options with { MaxUploadsPerDay = 0 };
        for (var i = 1; i <= 60; i++)
        {
            _h.StoreDirect("s", Name(i / 10.0 + 1), Now.UtcDateTime.AddMinutes(-i));
        }

        var result = await _h.ServeAsync($"receive-stream s {Name(0.01)} full", Framing.Frame([0x8C, 1]));

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task The_default_cap_of_48_refuses_the_49th_upload_of_a_flood()
    {
        Assert.Equal(48, new Core.Configuration.ReceiverOptions().MaxUploadsPerDay);
        for (var i = 1; i <= 48; i++)
        {
            _h.StoreDirect("s", Name(i / 4.0 + 1), Now.UtcDateTime.AddMinutes(-i));
        }

        var result = await _h.ServeAsync($"receive-stream s {Name(0.01)} full", Framing.Frame([0x8C, 1]));

        Assert.StartsWith($"ERR {ErrorCodes.RateLimited} ", result.StdoutText, StringComparison.Ordinal);
    }
}
