namespace BtrfsSend.Core.Manifests;

/// <summary>A parsed manifest, or every reason it was refused (each "source:line: message").</summary>
public sealed record ManifestParseResult(Manifest? Manifest, IReadOnlyList<string> Errors)
{
    public bool IsValid => Manifest is not null && Errors.Count == 0;
}
