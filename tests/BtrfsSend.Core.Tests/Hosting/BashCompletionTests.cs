using System.CommandLine;
using BtrfsSend.Hosting;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Hosting;

public sealed class BashCompletionTests
{
    private static RootCommand Tree()
    {
        var mode = new Option<string>("--mode") { Description = "m" };
        mode.AcceptOnlyFromAmong("fast", "careful");
        var root = new RootCommand("test")
        {
            new Option<string>("--config") { Description = "c" },
            new Option<bool>("--dry-run", "-n") { Description = "d" },
            new Option<bool>("--secret") { Hidden = true },
            new Command("restore", "r")
            {
                new Option<string>("--to") { Description = "t" },
                mode,
                new Option<bool>("--list") { Description = "l" },
            },
            new Command("remove", "x") { new Argument<string>("path") },
            new Command("shell", "s") { ShellArgument() },
            new Command("internal", "i") { Hidden = true },
        };
        root.Options.Add(new Option<bool>("--verbose") { Recursive = true });
        return root;
    }

    private static Argument<string> ShellArgument()
    {
        var shell = new Argument<string>("shell");
        shell.AcceptOnlyFromAmong("bash", "zsh");
        return shell;
    }

    private static async Task<List<string>> CompleteAsync(params string[] words)
    {
        using var temp = new TempDir("completion");
        var script = temp.Sub("prog");
        File.WriteAllText(script, BashCompletion.Generate("my-prog", Tree()));
        Directory.CreateDirectory(temp.Sub("cwd"));
        File.WriteAllText(temp.Sub("cwd", "rest.txt"), "");

        // COMP_WORDS as bash would split the line; the last word is the one being completed.
        var result = await Run.OutAsync(["bash", "--norc", "--noprofile", "-c",
            "cd \"$1\" && source \"$2\" && shift 2 && COMP_WORDS=(\"$@\") && COMP_CWORD=$(( $# - 1 )) && _my_prog && printf '%s\\n' \"${COMPREPLY[@]}\"",
            "bash", temp.Sub("cwd"), script, "my-prog", .. words]);
        return [.. result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task The_first_word_completes_to_the_visible_verbs()
    {
        Assert.Equal(["remove", "restore"], await CompleteAsync("re"));
        Assert.Equal(["remove", "restore", "shell"], await CompleteAsync(""));
    }

    [Fact]
    public async Task A_dash_completes_to_the_options_of_the_verb_typed_so_far_with_inherited_recursive_ones()
    {
        Assert.Equal(["--help", "--list", "--mode", "--to", "--verbose"], await CompleteAsync("restore", "--"));
        Assert.Equal(["--config", "--dry-run", "--help", "--verbose", "--version", "-?", "-h", "-n"], await CompleteAsync("-"));
    }

    [Fact]
    public async Task An_option_with_fixed_choices_completes_to_them_and_other_values_to_file_names()
    {
        Assert.Equal(["careful", "fast"], await CompleteAsync("restore", "--mode", ""));
        Assert.Equal(["rest.txt"], await CompleteAsync("--config", "re"));
    }

    [Fact]
    public async Task The_value_of_an_option_is_not_taken_for_a_verb()
    {
        // "--config restore" names a file called restore; the verb is still to come.
        Assert.Equal(["remove", "restore"], await CompleteAsync("--config", "restore", "re"));
        Assert.Equal(["remove", "restore", "shell"], await CompleteAsync("--config", "remove", ""));
    }

    [Fact]
    public async Task A_flag_takes_no_value_so_the_next_word_is_a_verb_or_an_option()
    {
        Assert.Equal(["remove", "restore"], await CompleteAsync("--dry-run", "re"));
        Assert.Equal(["--help", "--list", "--mode", "--to", "--verbose"], await CompleteAsync("--dry-run", "restore", "--verbose", "--"));
    }

    [Fact]
    public async Task A_verb_with_an_argument_completes_its_fixed_choices_or_else_file_names()
    {
        Assert.Equal(["rest.txt"], await CompleteAsync("remove", "re"));
        Assert.Equal(["bash", "zsh"], await CompleteAsync("shell", ""));
    }

    [Fact]
    public void Hidden_verbs_and_options_are_never_offered()
    {
        var script = BashCompletion.Generate("my-prog", Tree());

        Assert.DoesNotContain("internal", script, StringComparison.Ordinal);
        Assert.DoesNotContain("--secret", script, StringComparison.Ordinal);
        Assert.Contains("complete -F _my_prog my-prog", script, StringComparison.Ordinal);
    }
}
