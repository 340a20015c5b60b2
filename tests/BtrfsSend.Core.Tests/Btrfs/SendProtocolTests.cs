using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Btrfs;

public sealed class SendProtocolTests
{
    [Theory]
    [InlineData(SendProtoSetting.V1, false, 2, true, 1, false)]
    [InlineData(SendProtoSetting.V1, false, 1, false, 1, false)]
    [InlineData(SendProtoSetting.V2, false, 2, true, 2, false)]
    [InlineData(SendProtoSetting.V2, true, 2, true, 2, true)]
    [InlineData(SendProtoSetting.V2, true, 3, true, 2, true)]
    [InlineData(SendProtoSetting.Auto, false, 2, true, 2, false)]
    [InlineData(SendProtoSetting.Auto, true, 2, true, 2, true)]
    [InlineData(SendProtoSetting.Auto, true, 1, true, 1, false)]
    [InlineData(SendProtoSetting.Auto, true, 2, false, 1, false)]
    [InlineData(SendProtoSetting.Auto, false, 1, false, 1, false)]
    public void The_protocol_is_2_only_when_asked_for_and_both_kernel_and_btrfs_progs_support_it(
        SendProtoSetting setting, bool compressed, int kernel, bool progs, int expectedVersion, bool expectedCompressed)
    {
        var chosen = SendProtocol.Choose(setting, compressed, kernel, progs, progsHasCompressedData: progs);

        Assert.Equal(new SendProtocol(expectedVersion, expectedCompressed), chosen);
    }

    [Theory]
    [InlineData(1, true, "this kernel only sends stream version 1")]
    [InlineData(2, false, "has no --proto option")]
    [InlineData(1, false, "neither this kernel")]
    public void SEND_PROTO_2_on_a_machine_without_protocol_2_is_a_prerequisite_failure_naming_what_is_missing(int kernel, bool progs, string reason)
    {
        var ex = Assert.Throws<PrerequisiteException>(() => SendProtocol.Choose(SendProtoSetting.V2, false, kernel, progs, progs));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Contains("SEND_PROTO=1 or auto", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compressed_data_with_a_btrfs_progs_that_lacks_the_option_is_a_prerequisite_failure()
    {
        var ex = Assert.Throws<PrerequisiteException>(() => SendProtocol.Choose(SendProtoSetting.Auto, true, 2, progsHasProto: true, progsHasCompressedData: false));

        Assert.Contains("--compressed-data", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("1\n", 1)]
    [InlineData("2\n", 2)]
    [InlineData("3", 3)]
    public void The_kernel_file_is_read_as_a_number_and_its_absence_means_version_1(string? text, int expected)
        => Assert.Equal(expected, SendProtocol.ParseKernelVersion(text));

    [Theory]
    [InlineData("")]
    [InlineData("two")]
    [InlineData("0")]
    [InlineData("-2")]
    public void A_kernel_file_that_is_not_a_version_number_is_a_prerequisite_failure(string text)
        => Assert.Throws<PrerequisiteException>(() => SendProtocol.ParseKernelVersion(text));

    [RealFact("btrfs")]
    public async Task This_machine_offers_protocol_2_and_auto_chooses_it()
    {
        // The testbed's kernel and btrfs-progs 6.2 both support protocol 2 (measured, not assumed).
        var kernel = SendProtocol.ParseKernelVersion(File.Exists(SendProtocol.KernelVersionFilePath) ? await File.ReadAllTextAsync(SendProtocol.KernelVersionFilePath) : null);
        var help = await Run.TryAsync("btrfs", "send", "--help");

        var chosen = SendProtocol.Choose(SendProtoSetting.Auto, true, kernel, help.StandardOutput.Contains("--proto", StringComparison.Ordinal), help.StandardOutput.Contains("--compressed-data", StringComparison.Ordinal));

        Assert.Equal(new SendProtocol(2, true), chosen);
    }
}
