namespace BtrfsSend.Core.Configuration;

/// <summary>One configuration error or warning.</summary>
/// <param name="Key">The key concerned, e.g. <c>KEEP_DAILY</c>.</param>
/// <param name="Where"><c>file:line</c>, <c>environment</c>, <c>command line</c> or <c>default</c>.</param>
/// <param name="Message">What is wrong and what is allowed; hostile input only through NameText.Printable.</param>
public sealed record ConfigIssue(string Key, string Where, string Message)
{
    public override string ToString() => $"{Where}: {Key}: {Message}";
}
