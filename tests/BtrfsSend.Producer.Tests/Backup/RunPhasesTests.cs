using BtrfsSend.Producer.Backup;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class RunPhasesTests
{
    [Fact]
    public void Phases_are_listed_in_the_order_they_ended_after_the_process_start_up()
    {
        var phases = new RunPhases(TimeSpan.FromMilliseconds(250));
        phases.Done("hello+list");
        phases.Done("snapshot");
        phases.Done("send");

        var text = phases.Render();

        Assert.StartsWith("process start-up 0.25 s, hello+list ", text, StringComparison.Ordinal);
        Assert.Matches(@"^process start-up 0\.25 s, hello\+list \d+\.\d\d s, snapshot \d+\.\d\d s, send \d+\.\d\d s$", text);
    }

    [Fact]
    public void A_start_time_in_the_future_reads_as_zero_not_negative()
    {
        Assert.Equal("process start-up 0.00 s", new RunPhases(TimeSpan.FromSeconds(-3)).Render());
    }

    [Fact]
    public void The_real_process_start_up_is_measured_from_exec()
    {
        var text = new RunPhases().Render();

        Assert.Matches(@"^process start-up \d+\.\d\d s$", text);
        Assert.NotEqual("process start-up 0.00 s", text); // this test process started well before now
    }
}
