using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionGetTests : IDisposable
{
    private static readonly byte[] Payload = [0x8C, .. Enumerable.Range(1, 2_999_999).Select(i => (byte)(i % 251))];
    private readonly ReceiverHarness _h = new();

    public ServeSessionGetTests()
    {
        _h.ReceiveAsync("s", Name(3), Payload).GetAwaiter().GetResult();
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Get_sends_the_stored_bytes_framed_with_the_manifests_hash_in_the_trailer()
    {
        var result = await _h.ServeAsync($"get s {Name(3)}");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Payload, Framing.Decode(result.Stdout));
        using var reader = new Bsf1Reader(new MemoryStream(result.Stdout));
        reader.CopyTo(Stream.Null);
        Assert.Equal(Framing.Sha256Hex(Payload), reader.Sha256Hex);
    }

    [Fact]
    public async Task Get_is_refused_when_ALLOW_GET_is_no()
    {
        var result = await _h.ServeAsync($"get s {Name(3)}", options: _h.Options with { AllowGet = false });

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.Disabled} get is disabled", result.StdoutText, StringComparison.Ordinal);
        Assert.Single(result.StdoutLines);
    }

    [Theory]
    [InlineData("s", "root-20240310T100000Z")]
    [InlineData("no/such", "root-20240310T090000Z")]
    public async Task Get_of_a_snapshot_that_is_not_stored_is_an_ERR_line(string set, string snapshot)
    {
        var result = await _h.ServeAsync($"get {set} {snapshot}");

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.BadSnapshot} snapshot '{snapshot}' is not stored in set '{set}'", result.StdoutText, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_h.SetDirPath("no/such")));
    }

    [Fact]
    public async Task Get_of_a_tampered_file_sends_no_trailer_and_exits_8()
    {
        var path = _h.Store.Read(Set("s")).Find(Snap(Name(3)))!.StreamFilePath;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 2_000_000;
            file.WriteByte((byte)(Payload[2_000_000] ^ 0x40));
        }

        var result = await _h.ServeAsync($"get s {Name(3)}");

        Assert.Equal(8, result.ExitCode);
        var error = Assert.Throws<FramingException>(() => Framing.Decode(result.Stdout));
        Assert.Equal(FramingError.Truncated, error.Error);
        Assert.Contains(result.Log, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("does not match its manifest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Get_of_a_truncated_file_sends_no_trailer_and_exits_8()
    {
        var path = _h.Store.Read(Set("s")).Find(Snap(Name(3)))!.StreamFilePath;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.SetLength(Payload.Length - 1);
        }

        var result = await _h.ServeAsync($"get s {Name(3)}");

        Assert.Equal(8, result.ExitCode);
        Assert.Throws<FramingException>(() => Framing.Decode(result.Stdout));
    }
}
