namespace BtrfsSend.Core.Naming;

/// <summary>
/// A client name: the <c>--client</c> pin from authorized_keys, the <c>CLIENT_&lt;name&gt;</c> keys
/// of the receiver's config and the manifest's <c>client</c> value.
/// </summary>
public static class ClientName
{
    public const int MaxLength = 64;
    public const string Rule = "[a-z0-9][a-z0-9._-]{0,63}";

    /// <summary>Why <paramref name="value"/> is not a client name, or null when it is one.</summary>
    public static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"client name is empty; allowed: {Rule}";
        }

        if (value.Length > MaxLength)
        {
            return $"client name is {value.Length} characters long; allowed: {Rule}";
        }

        if (value[0] is not ((>= 'a' and <= 'z') or (>= '0' and <= '9')))
        {
            return $"client name '{NameText.Printable(value)}' must start with a-z or 0-9; allowed: {Rule}";
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-'))
            {
                return $"client name '{NameText.Printable(value)}' contains {NameText.Describe(c)}; allowed: {Rule}";
            }
        }

        return null;
    }
}
