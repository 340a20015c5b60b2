namespace BtrfsSend.Core.Protocol;

/// <summary>
/// Every code the receiver may send in <c>ERR &lt;code&gt; &lt;message&gt;</c>, in one place
/// (docs/protocol.md, "Error codes"). Codes match <c>[a-z][a-z-]*</c>; a client must treat an
/// unknown code as a refusal it cannot retry blindly.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The command line is not in the grammar (verb, arity, characters, length).</summary>
    public const string BadCommand = "bad-command";

    /// <summary>The backup set token fails its rule.</summary>
    public const string BadSet = "bad-set";

    /// <summary>A snapshot (or parent) token fails its rule.</summary>
    public const string BadSnapshot = "bad-snapshot";

    /// <summary>The parent of an incremental is the snapshot itself, has another prefix, or is not earlier.</summary>
    public const string BadParent = "bad-parent";

    /// <summary>This client may not use this set or verb.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>A stream or snapshot with this name is already stored; nothing is overwritten.</summary>
    public const string Exists = "exists";

    /// <summary>The parent of an incremental is not stored (or not received).</summary>
    public const string MissingParent = "missing-parent";

    /// <summary>The snapshot's time is too far from the receiver's clock.</summary>
    public const string ClockSkew = "clock-skew";

    /// <summary>The receiver's storage is (nearly) full.</summary>
    public const string NoSpace = "no-space";

    /// <summary>The stream is larger than the receiver allows.</summary>
    public const string TooLarge = "too-large";

    /// <summary>Another transfer holds the lock for this set or LUKS volume.</summary>
    public const string Busy = "busy";

    /// <summary>The framed input ended before its trailer.</summary>
    public const string Truncated = "truncated";

    /// <summary>The framed input is not BSF1: bad magic, oversize frame, or bytes after the trailer.</summary>
    public const string BadFrame = "bad-frame";

    /// <summary>The trailer's byte count does not match the payload received.</summary>
    public const string BadTrailer = "bad-trailer";

    /// <summary>The trailer's SHA-256 does not match the payload received.</summary>
    public const string HashMismatch = "hash-mismatch";

    /// <summary>The payload of <c>receive-stream</c> is empty or does not begin with an OpenPGP session-key packet.</summary>
    public const string NotEncrypted = "not-encrypted";

    /// <summary>The client sent nothing for IDLE_TIMEOUT_SECONDS; it was cut off and nothing was stored.</summary>
    public const string IdleTimeout = "idle-timeout";

    /// <summary>The set already had MAX_UPLOADS_PER_DAY uploads in the last 24 hours.</summary>
    public const string RateLimited = "rate-limited";

    /// <summary>The receiver hit an I/O error while storing.</summary>
    public const string IoError = "io-error";

    /// <summary>The verb is disabled by the receiver's configuration (e.g. <c>get</c>, or a storage mode).</summary>
    public const string Disabled = "disabled";

    /// <summary>
    /// The store itself cannot take backups (BACKUP_ROOT missing — the backup disk not mounted —,
    /// not a directory, read-only, or below MIN_FREE_SPACE): answered to <c>hello</c> (and to
    /// <c>list</c> when BACKUP_ROOT cannot be read at all), so a producer refuses before it stops
    /// any service. Nothing was created.
    /// </summary>
    public const string StoreUnusable = "store-unusable";

    /// <summary>A bug in the receiver; details are in its log only.</summary>
    public const string Internal = "internal";

    /// <summary>All codes above, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        BadCommand, BadSet, BadSnapshot, BadParent, Forbidden, Exists, MissingParent, ClockSkew, NoSpace,
        TooLarge, Busy, Truncated, BadFrame, BadTrailer, HashMismatch, NotEncrypted, IdleTimeout, RateLimited, IoError, Disabled, StoreUnusable, Internal,
    ];

    /// <summary>True if <paramref name="code"/> has the shape of a code (<c>[a-z][a-z-]{0,31}</c>), known or not.</summary>
    public static bool IsWellFormed(string? code)
    {
        if (string.IsNullOrEmpty(code) || code.Length > 32 || code[0] is < 'a' or > 'z')
        {
            return false;
        }

        foreach (var c in code)
        {
            if (c is not ((>= 'a' and <= 'z') or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
