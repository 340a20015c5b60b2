using System.CommandLine;

namespace BtrfsSend.Hosting;

/// <summary>
/// <c>completion [bash]</c>: prints the shell completion script made from the program's command
/// tree as parsed (<see cref="BashCompletion"/>); the packages install its output.
/// </summary>
public static class CompletionCommand
{
    public const string Name = "completion";

    /// <summary>The verb for <paramref name="root"/>, read when it runs, so every verb and option added before is in the script.</summary>
    public static Command Create(string programName, RootCommand root, TextWriter? stdout = null)
    {
        var shell = new Argument<string>("shell") { Description = "The shell (bash)", DefaultValueFactory = _ => "bash" };
        shell.AcceptOnlyFromAmong("bash");
        var command = new Command(Name, "Print the bash completion script for this program (installed by the package as /usr/share/bash-completion/completions/" + programName + ")")
        {
            shell,
        };
        command.SetAction(async (_, cancellationToken) =>
        {
            await (stdout ?? Console.Out).WriteAsync(BashCompletion.Generate(programName, root).AsMemory(), cancellationToken);
            return 0;
        });
        return command;
    }
}
