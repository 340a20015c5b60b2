using BtrfsSend.Core.Btrfs;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Btrfs;

public sealed class SendStreamValidatorRealTests
{
    [RealFact("mkfs.btrfs", "btrfs", "truncate", "mount", "umount")]
    public async Task Real_full_incremental_proto2_and_multi_snapshot_sends_validate_and_their_corruptions_do_not()
    {
        await using var volume = await RealBtrfsVolume.CreateAsync();
        await volume.CreateSubvolumeAsync("vol");
        await File.WriteAllTextAsync(volume.PathOf("vol/small"), "hello\n");
        await File.WriteAllBytesAsync(volume.PathOf("vol/big"), RandomBytes(300_000, seed: 1));
        Directory.CreateDirectory(volume.PathOf("vol/dir"));
        File.CreateSymbolicLink(volume.PathOf("vol/dir/link"), "../small");
        await volume.SnapshotAsync("vol", "s1");
        await File.AppendAllTextAsync(volume.PathOf("vol/small"), "more\n");
        File.Delete(volume.PathOf("vol/dir/link"));
        await volume.SnapshotAsync("vol", "s2");

        var full = await volume.SendAsync(["s1"]);
        var fullV2 = await volume.SendAsync(["s1"], null, "--proto", "2");
        var incremental = await volume.SendAsync(["s2"], "s1");
        var both = await volume.SendAsync(["s1", "s2"]);

        Assert.Equal(1, Accepted(full).Version);
        Assert.Equal(2, Accepted(fullV2).Version);
        Assert.Equal(1, Accepted(incremental).Version);
        Assert.Equal(2, Accepted(both, allowConcatenated: true).CompletedStreams);
        Assert.Equal(SendStreamFault.TrailingData, SendStreamVectors.Fault(both)!.Fault);

        var flipped = (byte[])full.Clone();
        flipped[full.Length / 2] ^= 0x04;
        Assert.Equal(SendStreamFault.CrcMismatch, SendStreamVectors.Fault(flipped)!.Fault);
        foreach (var cut in new[] { 1, 16, 17, 20, 27, full.Length / 3, full.Length - 10, full.Length - 1 })
        {
            Assert.Equal(SendStreamFault.Truncated, SendStreamVectors.Fault(full[..cut])!.Fault);
        }

        Assert.Equal(SendStreamFault.TrailingData, SendStreamVectors.Fault([.. full, 0])!.Fault);
    }

    [RealFact("mkfs.btrfs", "btrfs", "truncate", "mount", "umount", "fallocate")]
    public async Task Proto2_compressed_data_streams_with_encoded_writes_and_punched_holes_validate_and_a_declared_proto_1_refuses_them()
    {
        await using var volume = await RealBtrfsVolume.CreateAsync("compress=zstd");
        await volume.CreateSubvolumeAsync("vol");
        // Not File.WriteAllText: .NET preallocates a file of known length, and btrfs never compresses
        // writes into preallocated extents.
        await using (var text = new FileStream(volume.PathOf("vol/text"), FileMode.CreateNew))
        {
            await text.WriteAsync(System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a compressible line of text 0123456789\n", 100_000))));
        }

        await File.WriteAllBytesAsync(volume.PathOf("vol/random"), RandomBytes(500_000, seed: 2));
        await BtrfsSend.TestSupport.Run.OutAsync("sync");
        await volume.SnapshotAsync("vol", "s1");
        await BtrfsSend.TestSupport.Run.OutAsync("fallocate", "--punch-hole", "--offset", "1048576", "--length", "1048576", volume.PathOf("vol/text"));
        await volume.SnapshotAsync("vol", "s2");

        var full = await volume.SendAsync(["s1"], null, "--proto", "2", "--compressed-data");
        var incremental = await volume.SendAsync(["s2"], "s1", "--proto", "2", "--compressed-data");

        Assert.Equal(2, Accepted(full).Version);
        Assert.Equal(2, Accepted(incremental).Version);
        Assert.Contains(EncodedWrite, CommandTypes(full));
        Assert.Contains(Fallocate, CommandTypes(incremental));
        Assert.Null(SendStreamVectors.Fault(new SendStreamValidator(expectedVersion: 2), full, [4096, 1, 65536]));
        Assert.Equal(SendStreamFault.VersionMismatch, SendStreamVectors.Fault(new SendStreamValidator(expectedVersion: 1), full, [full.Length])!.Fault);
        var flipped = (byte[])full.Clone();
        flipped[full.Length / 2] ^= 0x10;
        Assert.Equal(SendStreamFault.CrcMismatch, SendStreamVectors.Fault(flipped)!.Fault);
    }

    private const ushort Fallocate = 23;
    private const ushort EncodedWrite = 25;

    /// <summary>The command types of one stream, read from the command headers.</summary>
    private static HashSet<ushort> CommandTypes(byte[] data)
    {
        var types = new HashSet<ushort>();
        for (var at = SendStreamValidator.StreamHeaderLength; at < data.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at));
            types.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at + 4)));
            at += SendStreamValidator.CommandHeaderLength + length;
        }

        return types;
    }

    private static SendStreamValidator Accepted(byte[] data, bool allowConcatenated = false)
    {
        var validator = new SendStreamValidator(allowConcatenated);
        using var stream = SendStreamValidatingStream.ForReading(new MemoryStream(data), allowConcatenated);
        stream.CopyTo(Stream.Null);
        validator.Feed(data);
        validator.Complete();
        return validator;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
