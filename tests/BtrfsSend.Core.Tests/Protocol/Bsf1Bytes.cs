using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Protocol;

/// <summary>Frames and unframes byte arrays through the real writer and reader.</summary>
internal static class Bsf1Bytes
{
    public static byte[] Frame(byte[] payload, int frameLength = Bsf1.DefaultFrameLength, int writeChunk = int.MaxValue)
    {
        var output = new MemoryStream();
        using var writer = new Bsf1Writer(output, frameLength, leaveOpen: true);
        for (var i = 0; i < payload.Length; i += writeChunk)
        {
            writer.Write(payload.AsSpan(i, Math.Min(writeChunk, payload.Length - i)));
        }

        writer.CompleteAsync().GetAwaiter().GetResult();
        return output.ToArray();
    }

    public static byte[] Unframe(byte[] framed, int maxRead = int.MaxValue, long maxPayloadBytes = long.MaxValue)
    {
        using var reader = new Bsf1Reader(new TrickleStream(framed, maxRead), maxPayloadBytes);
        var output = new MemoryStream();
        reader.CopyTo(output);
        if (!reader.IsComplete)
        {
            throw new InvalidOperationException("CopyTo ended without a verified trailer");
        }

        return output.ToArray();
    }

    public static async Task<byte[]> UnframeAsync(byte[] framed, int maxRead = int.MaxValue, int bufferSize = 81920)
    {
        await using var reader = new Bsf1Reader(new TrickleStream(framed, maxRead));
        var output = new MemoryStream();
        await reader.CopyToAsync(output, bufferSize);
        return reader.IsComplete ? output.ToArray() : throw new InvalidOperationException("CopyToAsync ended without a verified trailer");
    }

    /// <summary>The framing error reading <paramref name="framed"/> raises, or null if it reads cleanly.</summary>
    public static FramingException? ErrorOf(byte[] framed, int maxRead = int.MaxValue, long maxPayloadBytes = long.MaxValue)
    {
        try
        {
            Unframe(framed, maxRead, maxPayloadBytes);
            return null;
        }
        catch (FramingException e)
        {
            return e;
        }
    }

    public static byte[] Payload(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
