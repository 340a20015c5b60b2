using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// prod-srv is compromised: an attacker holds the producer's valid ssh key and talks to the real
/// receiver (forced command through sudo) directly, against a store holding real backups made
/// by the real producer. Nothing they send may change, add to or endanger what is stored.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class HostileClientTests(FaultWorldFixture fixture)
{
    private const long GiB = 1L << 30;

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_10_GiB_stream_without_a_trailer_is_refused_as_too_large_once_1_GiB_is_passed_and_leaves_nothing()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        var name = $"prod-srv-rootfs-{DateTime.UtcNow.AddHours(-1).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        var generator = new EndlessZeros(10 * GiB);

        var outcome = await world.StartHostileClient($"receive-stream {FaultWorld.Set} {name} full", generator.WriteAsync).Completion;
        await world.WaitForReceiversToExitAsync();

        Assert.Equal(5, outcome.ExitCode);
        Assert.StartsWith("ERR too-large ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
        // The receiver stopped reading at the limit: the client got rid of a little more than
        // 1 GiB (what sits in pipes and ssh windows), never anything near 10 GiB.
        Assert.True(generator.Written > FaultWorld.MaxStreamSize, $"only {generator.Written} bytes were written: the refusal came before the limit");
        Assert.True(generator.Written < FaultWorld.MaxStreamSize + (256L << 20), $"{generator.Written} bytes were written before the receiver stopped reading");
        Assert.True(generator.StoppedByBrokenPipe, "the generator was not stopped by the receiver going away");
        world.AssertNothingChanged(before);
        Assert.Empty(world.TempFiles());

        await AssertNextRunSucceedsAsync(world, before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task Forged_future_and_past_snapshot_names_are_refused_as_clock_skew_and_store_nothing()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        var latest = before.StateFiles[FaultWorld.Set]!.Trim();
        var payload = Receiver.SshReceiver.Encrypted(64 * 1024);
        string Name(DateTime at) => $"prod-srv-rootfs-{at.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";

        // A name far in the future would be "the newest" forever; one far in the past could slip
        // under retention. Both full and as an incremental on the real latest backup.
        string[] forged = [Name(DateTime.UtcNow.AddHours(25)), "prod-srv-rootfs-20991231T235959Z", Name(DateTime.UtcNow.AddHours(-25)), "prod-srv-rootfs-19700101T000000Z"];
        // As an incremental, a past name is refused even earlier: its parent would be newer than itself.
        foreach (var name in forged)
        {
            var isPast = string.CompareOrdinal(name, latest) < 0;
            foreach (var (command, code) in new[]
            {
                ($"receive-stream {FaultWorld.Set} {name} full", "clock-skew"),
                ($"receive-stream {FaultWorld.Set} {name} incremental {latest}", isPast ? "bad-parent" : "clock-skew"),
            })
            {
                var outcome = await world.StartHostileClient(command, Framed(payload)).Completion;
                Assert.True(outcome.ExitCode == 5, $"{command}: {outcome}");
                Assert.StartsWith($"ERR {code} ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
            }
        }

        world.AssertNothingChanged(before);
        await AssertNextRunSucceedsAsync(world, before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task Fake_incrementals_whose_parent_is_not_stored_in_the_set_are_refused_before_any_byte_is_written()
    {
        var world = await fixture.WorldAsync();
        await world.EnsureHomeSetAsync();
        var before = world.Capture();
        var latest = before.StateFiles[FaultWorld.Set]!.Trim();
        var otherSetsSnapshot = before.StateFiles[FaultWorld.HomeSet]!.Trim();
        var name = $"prod-srv-rootfs-{DateTime.UtcNow.AddMinutes(-30).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        var neverStored = $"prod-srv-rootfs-{DateTime.UtcNow.AddMinutes(-31).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        var payload = Receiver.SshReceiver.Encrypted(256 * 1024);

        // A parent stored only in another set, the snapshot itself (both fail the grammar's parent
        // rule: same prefix, strictly older), and a plausible older name that was never stored.
        foreach (var (parent, code) in new[] { (otherSetsSnapshot, "bad-parent"), (name, "bad-parent"), (neverStored, "missing-parent") })
        {
            var outcome = await world.StartHostileClient($"receive-stream {FaultWorld.Set} {name} incremental {parent}", Framed(payload)).Completion;
            Assert.True(outcome.ExitCode == 5, $"parent {parent}: {outcome}");
            Assert.StartsWith($"ERR {code} ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
        }

        world.AssertNothingChanged(before);
        Assert.DoesNotContain(latest, new[] { otherSetsSnapshot, name, neverStored });
        await AssertNextRunSucceedsAsync(world, before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task Sending_again_under_the_name_of_a_real_backup_is_refused_and_the_stored_stream_is_unchanged()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        var latest = before.StateFiles[FaultWorld.Set]!.Trim();
        var first = before.Manifests[0];
        var firstName = Path.GetFileNameWithoutExtension(first);
        var payload = Receiver.SshReceiver.Encrypted(64 * 1024);

        foreach (var command in new[]
        {
            $"receive-stream {FaultWorld.Set} {latest} full",
            $"receive-stream {FaultWorld.Set} {latest} incremental {firstName}",
            $"receive-stream {FaultWorld.Set} {firstName} full",
        })
        {
            var outcome = await world.StartHostileClient(command, Framed(payload)).Completion;
            Assert.True(outcome.ExitCode == 5, $"{command}: {outcome}");
            Assert.StartsWith("ERR ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
        }

        world.AssertNothingChanged(before);
        await AssertNextRunSucceedsAsync(world, before);
    }

    private static Func<Stream, CancellationToken, Task> Framed(byte[] payload) => async (stdin, cancellationToken) =>
    {
        await using var writer = new Bsf1Writer(stdin, leaveOpen: true);
        await writer.WriteAsync(payload, cancellationToken);
        await writer.CompleteAsync(cancellationToken);
    };

    private static async Task AssertNextRunSucceedsAsync(FaultWorld world, StoreState before)
    {
        world.ChangeSource();
        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the producer's next run failed: " + next.Stderr);
        Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        await world.AssertNoDataLostAsync(before);
    }

    /// <summary>
    /// <paramref name="prefix"/> (a session's request lines), BSF1 magic, then 1 MiB frames of zeros up to <c>limit</c> bytes, never a trailer: generated
    /// on the fly, nothing on disk. Stops quietly when the other end goes away (EPIPE).
    /// </summary>
    internal sealed class EndlessZeros(long limit, byte[]? prefix = null)
    {
        public long Written { get; private set; }

        public bool StoppedByBrokenPipe { get; private set; }

        public async Task WriteAsync(Stream stdin, CancellationToken cancellationToken)
        {
            var frame = new byte[4 + Bsf1.DefaultFrameLength];
            BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)Bsf1.DefaultFrameLength);
            frame[4] = 0x8C; // every frame begins like an OpenPGP message, so the first passes the receiver's check
            try
            {
                await stdin.WriteAsync(prefix ?? [], cancellationToken);
                await stdin.WriteAsync("BSF1"u8.ToArray(), cancellationToken);
                while (Written < limit)
                {
                    await stdin.WriteAsync(frame, cancellationToken);
                    Written += Bsf1.DefaultFrameLength;
                }

                await stdin.FlushAsync(cancellationToken);
            }
            catch (IOException)
            {
                StoppedByBrokenPipe = true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The ssh client exited (it saw the receiver go away) before our next write could
                // fail: CliWrap then cancels the stdin writer instead of letting it hit EPIPE.
                StoppedByBrokenPipe = true;
            }
        }
    }
}
