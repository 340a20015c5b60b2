using System.Reflection;
using BtrfsSend.Core.Naming;
using BtrfsSend.Hosting;
using BtrfsSend.Producer.Backup;

namespace BtrfsSend.IntegrationTests.Architecture;

/// <summary>
/// The dependency rules of docs/architecture.md, checked on the compiled assemblies (what the IL
/// uses, not what the using directives say): rooms form no circle, Core knows neither the programs
/// nor their shared host, only the host (src/BtrfsSend.Hosting) and the command layers use
/// System.CommandLine, and a program's domain rooms never use its command layer.
/// </summary>
public sealed class DependencyRuleTests
{
    private static readonly Assembly Core = typeof(NameText).Assembly;
    private static readonly Assembly Producer = typeof(BackupRun).Assembly;
    private static readonly Assembly Receiver = Assembly.Load("btrfs-backup-receive");
    private static readonly Assembly Hosting = typeof(ProgramHost).Assembly;
    private static readonly Lazy<IReadOnlyDictionary<string, IReadOnlySet<string>>> Graph = new(() => RoomDependencies.Of(Core, Hosting, Producer, Receiver));

    /// <summary>Rooms that may use System.CommandLine: the programs' entry points and command layers, and the host they share.</summary>
    private static readonly string[] CommandLineRooms =
        ["BtrfsSend.Producer", "BtrfsSend.Producer.Commands", "BtrfsSend.Receiver", "BtrfsSend.Receiver.Commands", "BtrfsSend.Hosting"];

    [Fact]
    public void The_scanner_sees_dependencies_that_are_known_to_exist()
    {
        // Guards the rules below against a scanner that sees nothing: these are real uses.
        Assert.Contains("BtrfsSend.Core.Processes", Graph.Value["BtrfsSend.Producer.Backup"]); // SendPipeline runs on StreamPipeline
        Assert.Contains("BtrfsSend.Producer.RemoteBtrfs", Graph.Value["BtrfsSend.Producer.Commands"]); // the run command hands the remote-btrfs mode in
        Assert.Contains("System.CommandLine", Graph.Value["BtrfsSend.Producer.Commands"]);
        Assert.Contains("System.CommandLine", Graph.Value["BtrfsSend.Hosting"]); // ProgramHost parses
        Assert.Contains("Serilog", Graph.Value["BtrfsSend.Core.Hosting"]); // ConsoleVerbosity filters log events
    }

    [Fact]
    public void No_two_rooms_depend_on_each_other_not_even_through_other_rooms()
    {
        Assert.Null(RoomDependencies.FindCycle(Graph.Value));
    }

    [Fact]
    public void Core_uses_neither_program_nor_their_shared_host()
    {
        var offenders = Graph.Value.Where(kv => kv.Key.StartsWith("BtrfsSend.Core", StringComparison.Ordinal))
            .SelectMany(kv => kv.Value.Where(u => u.StartsWith("BtrfsSend.Producer", StringComparison.Ordinal) || u.StartsWith("BtrfsSend.Receiver", StringComparison.Ordinal) || u.StartsWith("BtrfsSend.Hosting", StringComparison.Ordinal)).Select(u => $"{kv.Key} → {u}"));

        Assert.Empty(offenders);
    }

    [Fact]
    public void The_shared_host_uses_neither_program()
    {
        var offenders = Graph.Value["BtrfsSend.Hosting"].Where(u => u.StartsWith("BtrfsSend.Producer", StringComparison.Ordinal) || u.StartsWith("BtrfsSend.Receiver", StringComparison.Ordinal));

        Assert.Empty(offenders);
    }

    [Fact]
    public void Core_references_neither_System_CommandLine_nor_a_Serilog_sink()
    {
        // The assembly references, not only the namespaces used: a package reference that Core
        // no longer needs would still ship its assembly to every consumer.
        var references = Core.GetReferencedAssemblies().Select(a => a.Name ?? "");

        Assert.DoesNotContain(references, name => name.StartsWith("System.CommandLine", StringComparison.Ordinal) || name.StartsWith("Serilog.Sinks", StringComparison.Ordinal));
        Assert.Contains(Hosting.GetReferencedAssemblies(), a => a.Name == "System.CommandLine"); // the guard sees references at all
    }

    [Fact]
    public void Only_the_command_layers_and_the_shared_host_use_System_CommandLine()
    {
        var offenders = Graph.Value.Where(kv => !CommandLineRooms.Contains(kv.Key))
            .SelectMany(kv => kv.Value.Where(u => u.StartsWith("System.CommandLine", StringComparison.Ordinal)).Select(u => $"{kv.Key} → {u}"));

        Assert.Empty(offenders);
    }

    [Fact]
    public void The_domain_rooms_of_a_program_never_use_its_command_layer()
    {
        var offenders = Graph.Value.Where(kv => !CommandLineRooms.Contains(kv.Key))
            .SelectMany(kv => kv.Value.Where(u => u.EndsWith(".Commands", StringComparison.Ordinal)).Select(u => $"{kv.Key} → {u}"));

        Assert.Empty(offenders);
    }
}
