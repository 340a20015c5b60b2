namespace BtrfsSend.IntegrationTests.Architecture;

/// <summary>One method (or constructor, operator, expression-bodied member) of a source file: where it starts and how many lines it spans.</summary>
/// <param name="File">The file, relative to src/, with '/' separators.</param>
/// <param name="Name">The method's name (overloads share it).</param>
/// <param name="Line">The 1-based line of its signature.</param>
/// <param name="Lines">Lines from the signature to the closing brace, both included; local functions count for the method that holds them.</param>
internal sealed record MethodSpan(string File, string Name, int Line, int Lines)
{
    public string Key => $"{File} {Name}";
}
