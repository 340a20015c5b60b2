namespace BtrfsSend.Core.Naming;

/// <summary>The outcome of checking a name: either the parsed value or a one-line reason.</summary>
public readonly record struct NameCheck<T>(T? Value, string? Error)
    where T : class
{
    public bool IsValid => Error is null;

    public static NameCheck<T> Ok(T value) => new(value, null);

    public static NameCheck<T> Fail(string error) => new(null, error);
}
