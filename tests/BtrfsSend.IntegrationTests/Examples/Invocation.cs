namespace BtrfsSend.IntegrationTests.Examples;

/// <summary>One use of a program in documentation: <c>program [verb] --option ...</c>, and where it was found.</summary>
internal sealed record Invocation(string Program, string? Verb, IReadOnlyList<string> Options, string Where);
