using BtrfsSend.Core.Btrfs;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.Core.Tests.Btrfs;

/// <summary>Real send streams: the small ones in Vectors/, and the shared btrfs-progs vector.</summary>
internal static class SendStreamVectors
{
    /// <summary>Offsets of the four concatenated streams in btrfs-progs' test vector multi-clone-src-v4.8.2.stream (its tests/misc-tests/016-send-clone-src), read from the shared vectors directory beside the repository.</summary>
    public static readonly long[] MultiStreamOffsets = [0, 1050308, 3150317, 4200197];

    public const int MultiStreamLength = 6299778;

    public static byte[] FullV1 => Load("full-v1.stream");

    public static byte[] FullV2 => Load("full-v2.stream");

    public static byte[] IncrementalV1 => Load("incr-v1.stream");

    public static byte[] Load(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Btrfs", "Vectors", name));

    /// <summary>The four-stream vector, decompressed with the real xz.</summary>
    public static async Task<byte[]> MultiCloneSourceAsync()
    {
        var path = FindShared("vectors/multi-clone-src-v4.8.2.stream.xz");
        using var output = new MemoryStream();
        await Cli.Wrap(Prerequisites.FindOnPath("xz") ?? "xz").WithArguments(["-dc", path])
            .WithStandardOutputPipe(PipeTarget.ToStream(output))
            .ExecuteAsync();
        return output.ToArray();
    }

    /// <summary>Validates <paramref name="data"/> in one piece and returns the fault, or null if it is accepted.</summary>
    public static SendStreamException? Fault(byte[] data, bool allowConcatenated = false)
        => Fault(new SendStreamValidator(allowConcatenated), data, [data.Length]);

    /// <summary>Validates <paramref name="data"/> in chunks of the given sizes (cycled) and returns the fault, or null.</summary>
    public static SendStreamException? Fault(SendStreamValidator validator, byte[] data, int[] chunks)
    {
        try
        {
            var at = 0;
            var i = 0;
            while (at < data.Length)
            {
                var n = Math.Min(Math.Max(1, chunks[i++ % chunks.Length]), data.Length - at);
                validator.Feed(data.AsSpan(at, n));
                at += n;
            }

            validator.Complete();
            return null;
        }
        catch (SendStreamException e)
        {
            return e;
        }
    }

    private static string FindShared(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", relative), Path.Combine(dir.FullName, "..", "shared", relative) })
            {
                if (File.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }

        throw new FileNotFoundException($"shared test vector {relative} not found above {AppContext.BaseDirectory}");
    }
}
