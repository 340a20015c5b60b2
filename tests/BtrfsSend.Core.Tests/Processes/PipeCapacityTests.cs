using System.IO.Pipes;
using BtrfsSend.Core.Processes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Processes;

public sealed class PipeCapacityTests
{
    [Fact]
    public void A_real_pipe_is_enlarged_to_one_MiB_from_either_end()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);

        Assert.Equal(PipeCapacity.Streaming, PipeCapacity.TryEnlarge(server));
        Assert.Equal(PipeCapacity.Streaming, PipeCapacity.TryEnlarge(client, 64 * 1024 + 1)); // the other end sees the same buffer; asking for less never shrinks it
    }

    [Fact]
    public void A_stream_that_is_not_a_pipe_is_left_alone()
    {
        using var memory = new MemoryStream();

        Assert.Equal(0, PipeCapacity.TryEnlarge(memory));
    }

    [Property(MaxTest = 40)]
    public Property The_pipe_holds_at_least_what_was_asked_and_still_carries_the_bytes_unchanged() =>
        Prop.ForAll(
            Gen.Choose(4096, PipeCapacity.Streaming).ToArbitrary(),
            Gen.Choose(1, 200_000).ToArbitrary(),
            (requested, length) =>
            {
                using var server = new AnonymousPipeServerStream(PipeDirection.Out);
                using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
                var size = PipeCapacity.TryEnlarge(server, requested);

                var data = new byte[length];
                new Random(length).NextBytes(data);
                var writer = Task.Run(() =>
                {
                    server.Write(data);
                    server.Dispose();
                });
                var copy = new MemoryStream();
                client.CopyTo(copy);
                writer.Wait();

                return size >= requested && copy.ToArray().AsSpan().SequenceEqual(data);
            });
}
