using Microsoft.Extensions.Configuration;

namespace BtrfsSend.Core.Configuration;

/// <summary>Serves a shell-style file's assignments (last one wins, as in bash) and remembers each key's line.</summary>
internal sealed class ShellConfigurationProvider(ShellConfigurationSource source) : ConfigurationProvider
{
    private readonly Dictionary<string, int> lines = new(StringComparer.Ordinal);

    public string FilePath => source.FilePath;

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        lines.Clear();
        foreach (var a in source.Assignments)
        {
            data[a.Key] = a.Value;
            lines[a.Key] = a.Line;
        }

        Data = data;
    }

    /// <summary><c>file:line</c> of the assignment that set <paramref name="key"/>.</summary>
    public string Where(string key) => lines.TryGetValue(key, out var line) ? $"{FilePath}:{line}" : FilePath;
}
