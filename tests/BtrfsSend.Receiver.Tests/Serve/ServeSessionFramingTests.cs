using System.Buffers.Binary;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Tests.Support;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

/// <summary>Every way the framed stdin of <c>receive-stream</c> can be wrong: nothing committed, no temp left, earlier backups intact.</summary>
public sealed class ServeSessionFramingTests : IDisposable
{
    private static readonly byte[] Payload = [0x8C, .. Enumerable.Range(1, 39).Select(i => (byte)(i * 7))];
    private readonly ReceiverHarness _h = new();
    private readonly StoredStream _earlier;

    public ServeSessionFramingTests()
    {
        _h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3, 4]).GetAwaiter().GetResult();
        _earlier = _h.Store.Read(Set("s")).Streams.Single();
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task A_connection_cut_at_every_offset_before_the_end_is_truncated_exit_6_and_commits_nothing()
    {
        var framed = Framing.Frame(Payload, frameLength: 16);
        var wrong = new List<string>();

        for (var cut = 0; cut < framed.Length; cut++)
        {
            var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", framed[..cut]);
            if (result.ExitCode != 6 || !result.StdoutText.StartsWith($"ERR {ErrorCodes.Truncated} ", StringComparison.Ordinal) || result.StdoutLines.Count != 1)
            {
                wrong.Add($"cut at {cut}: exit {result.ExitCode}, {result.StdoutText}");
            }
        }

        Assert.Empty(wrong);
        AssertNothingButTheEarlierBackup();
    }

    [Fact]
    public async Task The_uncut_input_of_the_cut_test_is_accepted()
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(Payload, frameLength: 16));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Payload, File.ReadAllBytes(_h.Store.Read(Set("s")).Find(Snap(Name(1)))!.StreamFilePath));
    }

    public static TheoryData<string, byte[], string, int> Broken()
    {
        var good = Framing.Frame(Payload, frameLength: 16);
        var badMagic = (byte[])good.Clone();
        badMagic[3] = (byte)'2';
        var flippedPayload = (byte[])good.Clone();
        flippedPayload[10] ^= 0x01;
        var oversizeFrame = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(oversizeFrame.AsSpan(4), Bsf1.MaxFrameLength + 1);
        return new TheoryData<string, byte[], string, int>
        {
            { "bad magic", badMagic, ErrorCodes.BadFrame, 8 },
            { "plain bytes instead of BSF1", "btrfs-stream\0\0\0\0"u8.ToArray(), ErrorCodes.BadFrame, 8 },
            { "an ERR line instead of BSF1", "ERR bad-frame x\n"u8.ToArray(), ErrorCodes.BadFrame, 8 },
            { "frame longer than 16 MiB", oversizeFrame, ErrorCodes.BadFrame, 8 },
            { "count one too many", Framing.WithTrailer(Payload, (ulong)Payload.Length + 1, Framing.Sha256(Payload)), ErrorCodes.BadTrailer, 8 },
            { "count one too few", Framing.WithTrailer(Payload, (ulong)Payload.Length - 1, Framing.Sha256(Payload)), ErrorCodes.BadTrailer, 8 },
            { "hash of other bytes", Framing.WithTrailer(Payload, (ulong)Payload.Length, Framing.Sha256([1])), ErrorCodes.HashMismatch, 8 },
            { "a payload byte flipped in transit", flippedPayload, ErrorCodes.HashMismatch, 8 },
            { "a byte after the trailer", [.. good, 0], ErrorCodes.BadFrame, 8 },
            { "a second stream after the trailer", [.. good, .. good], ErrorCodes.BadFrame, 8 },
        };
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Broken_framing_is_refused_with_its_code_and_exit_and_commits_nothing(string what, byte[] stdin, string code, int exit)
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", stdin);

        Assert.True(exit == result.ExitCode, $"{what}: exit {result.ExitCode}");
        Assert.StartsWith($"ERR {code} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Single(result.StdoutLines);
        AssertNothingButTheEarlierBackup();
    }

    [Fact]
    public async Task A_refused_upload_is_logged_with_the_code_and_the_raw_command()
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(Payload)[..20], client: "prod");

        Assert.Contains(result.Log, l => l.StartsWith("Warning ", StringComparison.Ordinal)
            && l.Contains("\"prod\"", StringComparison.Ordinal)
            && l.Contains(ErrorCodes.Truncated, StringComparison.Ordinal)
            && l.Contains($"receive-stream s {Name(1)} full", StringComparison.Ordinal));
    }

    private void AssertNothingButTheEarlierBackup()
    {
        var contents = _h.Store.Read(Set("s"));
        var only = Assert.Single(contents.Streams);
        Assert.Equal(_earlier.Manifest, only.Manifest);
        Assert.Equal(_earlier.Manifest.StreamSha256, Framing.Sha256Hex(File.ReadAllBytes(only.StreamFilePath)));
        Assert.Empty(contents.OrphanFilePaths);
        Assert.Empty(contents.Problems);
        Assert.Empty(_h.Temps());
        Assert.Equal(["s", $"s/{Name(5)}.full.btrfs.gpg", $"s/{Name(5)}.manifest"], _h.Tree().Keys);
    }
}
