using System.Globalization;
using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Manifests;

/// <summary>
/// Strict reader of manifest format 1 (docs/manifest.md). Every rule broken is reported, each
/// naming the source, the line and what is allowed; unknown keys are kept in order.
/// </summary>
public static class ManifestReader
{
    /// <summary>Manifests are a few hundred bytes; anything near this is not one.</summary>
    public const int MaxBytes = 64 * 1024;

    public const int MaxValueLength = 4096;

    private static readonly System.Buffers.SearchValues<char> KeyChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_");

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes <paramref name="bytes"/> as strict UTF-8 (no BOM) and parses them.</summary>
    public static ManifestParseResult Parse(ReadOnlySpan<byte> bytes, string sourceName)
    {
        if (bytes.Length > MaxBytes)
        {
            return Fail($"{sourceName}: manifest is {bytes.Length} bytes; allowed: at most {MaxBytes}");
        }

        if (bytes.StartsWith("\uFEFF"u8))
        {
            return Fail($"{sourceName}:1: starts with a UTF-8 byte order mark; allowed: plain UTF-8 starting with '{Manifest.FormatLine}'");
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Fail($"{sourceName}: manifest is not valid UTF-8");
        }

        return Parse(text, sourceName);
    }

    public static ManifestParseResult Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var errors = new List<string>();
        if (text.Length > MaxBytes)
        {
            return Fail($"{sourceName}: manifest is {text.Length} characters; allowed: at most {MaxBytes} bytes");
        }

        if (text.Length == 0)
        {
            return Fail($"{sourceName}: manifest is empty; allowed: first line '{Manifest.FormatLine}'");
        }

        // Lines are walked as spans (no Split, no per-line strings): a store holds thousands of
        // manifests and list/prune/check read them all on every run.
        var newlines = text.AsSpan().Count('\n');
        var endsWithNewline = text[^1] == '\n';
        if (!endsWithNewline)
        {
            errors.Add($"{sourceName}:{newlines + 1}: last line has no newline (truncated?); allowed: every line ends with '\\n'");
        }

        var count = endsWithNewline ? newlines : newlines + 1;
        var values = new Dictionary<string, (string Value, int Line)>(ManifestKeys.Known.Length, StringComparer.Ordinal);
        var unknown = new List<KeyValuePair<string, string>>();
        var rest = text.AsSpan();
        for (var i = 0; i < count; i++)
        {
            var lineNo = i + 1;
            var end = rest.IndexOf('\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            string Where() => $"{sourceName}:{lineNo}";
            if (i == 0)
            {
                if (!line.SequenceEqual(Manifest.FormatLine))
                {
                    errors.Add(line.StartsWith("format=", StringComparison.Ordinal)
                        ? $"{Where()}: unsupported format '{NameText.Printable(line[7..].ToString())}'; allowed: '{Manifest.FormatLine}'"
                        : $"{Where()}: first line is '{NameText.Printable(line.ToString())}'; allowed: exactly '{Manifest.FormatLine}'");
                    return new ManifestParseResult(null, errors);
                }

                continue;
            }

            var eq = line.IndexOf('=');
            if (eq < 0)
            {
                errors.Add($"{Where()}: '{NameText.Printable(line.ToString())}' is not key=value; allowed: key [a-z0-9_]+, '=', value");
                continue;
            }

            var keySpan = line[..eq];
            var valueSpan = line[(eq + 1)..];
            if (keySpan.IsEmpty || keySpan.ContainsAnyExcept(KeyChars))
            {
                errors.Add($"{Where()}: key '{NameText.Printable(keySpan.ToString())}' is not allowed; allowed: [a-z0-9_]+");
                continue;
            }

            var knownKey = KnownKey(keySpan);
            var key = knownKey ?? keySpan.ToString();
            var valueProblem = ValueProblem(valueSpan);
            if (valueProblem is not null)
            {
                errors.Add($"{Where()}: {key}: {valueProblem}");
                continue;
            }

            if (key == ManifestKeys.Format || values.ContainsKey(key))
            {
                var first = key == ManifestKeys.Format ? 1 : values[key].Line;
                errors.Add($"{Where()}: {key}: duplicate key (first on line {first}); allowed: each key once");
                continue;
            }

            var value = valueSpan.ToString();
            values[key] = (value, lineNo);
            if (knownKey is null)
            {
                unknown.Add(new(key, value));
            }
        }

        if (count == 0)
        {
            errors.Add($"{sourceName}:1: missing '{Manifest.FormatLine}'");
            return new ManifestParseResult(null, errors);
        }

        var manifest = Build(values, unknown, sourceName, errors);
        return errors.Count == 0 ? new ManifestParseResult(manifest, errors) : new ManifestParseResult(null, errors);
    }

    private static Manifest? Build(
        Dictionary<string, (string Value, int Line)> values,
        List<KeyValuePair<string, string>> unknown,
        string sourceName,
        List<string> errors)
    {
        foreach (var key in ManifestKeys.Required)
        {
            if (!values.ContainsKey(key))
            {
                errors.Add($"{sourceName}: missing required key '{key}'");
            }
        }

        string? Raw(string key) => values.TryGetValue(key, out var v) ? v.Value : null;
        void Bad(string key, string error) => errors.Add($"{sourceName}:{values[key].Line}: {key}: {error}");

        BackupSet? set = null;
        if (Raw(ManifestKeys.Set) is { } setText)
        {
            var check = BackupSet.Check(setText);
            set = check.Value;
            if (check.Error is { } e)
            {
                Bad(ManifestKeys.Set, e);
            }
        }

        SnapshotName? Snapshot(string key)
        {
            if (Raw(key) is not { } text)
            {
                return null;
            }

            var check = SnapshotName.Check(text);
            if (check.Error is { } e)
            {
                Bad(key, e);
            }

            return check.Value;
        }

        var snapshot = Snapshot(ManifestKeys.Snapshot);
        var parent = Snapshot(ManifestKeys.Parent);

        StreamKind? kind = null;
        switch (Raw(ManifestKeys.Kind))
        {
            case null: break;
            case "full": kind = StreamKind.Full; break;
            case "incremental": kind = StreamKind.Incremental; break;
            case var s: Bad(ManifestKeys.Kind, $"'{NameText.Printable(s)}' is not a stream kind; allowed: full, incremental"); break;
        }

        long? bytes = null;
        if (Raw(ManifestKeys.StreamBytes) is { } bytesText)
        {
            if (bytesText.Length is > 0 and <= 19 && !bytesText.AsSpan().ContainsAnyExceptInRange('0', '9') && (bytesText == "0" || bytesText[0] != '0')
                && long.TryParse(bytesText, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                bytes = n;
            }
            else
            {
                Bad(ManifestKeys.StreamBytes, $"'{NameText.Printable(bytesText)}' is not a byte count; allowed: a non-negative decimal integer without sign or leading zeros");
            }
        }

        var sha = Raw(ManifestKeys.StreamSha256);
        if (sha is not null && !(sha.Length == 64 && !sha.AsSpan().ContainsAnyExcept(LowerHex)))
        {
            Bad(ManifestKeys.StreamSha256, $"'{NameText.Printable(sha)}' is not a SHA-256; allowed: 64 lowercase hex digits");
            sha = null;
        }

        StreamEncryption? encryption = null;
        switch (Raw(ManifestKeys.Encryption))
        {
            case null: break;
            case "openpgp-symmetric": encryption = StreamEncryption.OpenPgpSymmetric; break;
            case "openpgp-pubkey": encryption = StreamEncryption.OpenPgpPubkey; break;
            case "none": encryption = StreamEncryption.None; break;
            case var s: Bad(ManifestKeys.Encryption, $"'{NameText.Printable(s)}' is not an encryption; allowed: openpgp-symmetric, openpgp-pubkey, none"); break;
        }

        StreamCompression? compression = null;
        switch (Raw(ManifestKeys.Compression))
        {
            case null: break;
            case "none": compression = StreamCompression.None; break;
            case "zstd": compression = StreamCompression.Zstd; break;
            case var s: Bad(ManifestKeys.Compression, $"'{NameText.Printable(s)}' is not a compression; allowed: none, zstd"); break;
        }

        int? proto = null;
        switch (Raw(ManifestKeys.SendProto))
        {
            case null: break;
            case "1": proto = 1; break;
            case "2": proto = 2; break;
            case var s: Bad(ManifestKeys.SendProto, $"'{NameText.Printable(s)}' is not a send stream version; allowed: 1, 2"); break;
        }

        DateTime? receivedAt = null;
        if (Raw(ManifestKeys.ReceivedAt) is { } timeText)
        {
            if (timeText.Length == 20 && DateTime.TryParseExact(timeText, ManifestKeys.ReceivedAtFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
            {
                receivedAt = DateTime.SpecifyKind(t, DateTimeKind.Utc);
            }
            else
            {
                Bad(ManifestKeys.ReceivedAt, $"'{NameText.Printable(timeText)}' is not a UTC time; allowed: yyyy-MM-ddTHH:mm:ssZ");
            }
        }

        var client = Raw(ManifestKeys.Client);
        if (client is not null && ClientName.Problem(client) is { } clientProblem)
        {
            Bad(ManifestKeys.Client, clientProblem);
            client = null;
        }

        string? Uuid(string key)
        {
            var text = Raw(key);
            if (text is not null && !IsUuid(text))
            {
                Bad(key, $"'{NameText.Printable(text)}' is not a UUID; allowed: lowercase 8-4-4-4-12 hex, as btrfs subvolume show prints it");
                return null;
            }

            return text;
        }

        var snapshotUuid = Uuid(ManifestKeys.SnapshotUuid);
        var parentUuid = Uuid(ManifestKeys.ParentUuid);
        var producerVersion = values.TryGetValue(ManifestKeys.ProducerVersion, out var pv) ? pv.Value : null;
        var canaryToken = Raw(ManifestKeys.CanaryToken);
        if (canaryToken is not null && !ManifestKeys.IsCanaryToken(canaryToken))
        {
            Bad(ManifestKeys.CanaryToken, $"'{NameText.Printable(canaryToken)}' is not a canary token; allowed: exactly 32 lowercase hex digits");
            canaryToken = null;
        }

        var origin = Raw(ManifestKeys.Origin);
        if (origin is not null && !IsToken(origin))
        {
            Bad(ManifestKeys.Origin, $"'{NameText.Printable(origin)}' is not an origin; allowed: {ManifestKeys.LegacyOrigin} (or another [a-z0-9-] word of at most 32 characters)");
            origin = null;
        }

        var parentInferred = false;
        switch (Raw(ManifestKeys.ParentInferred))
        {
            case null: break;
            case "yes" when kind == StreamKind.Incremental: parentInferred = true; break;
            case "yes": Bad(ManifestKeys.ParentInferred, "only an incremental has a parent; allowed: parent_inferred only with kind=incremental"); break;
            case var s: Bad(ManifestKeys.ParentInferred, $"'{NameText.Printable(s)}' is not allowed; allowed: yes (or no key at all)"); break;
        }

        var legacyManifest = Raw(ManifestKeys.LegacyManifest);
        if (legacyManifest is not null && snapshot is not null && legacyManifest != StoredFileName.LegacyManifestFileName(snapshot))
        {
            Bad(ManifestKeys.LegacyManifest, $"'{NameText.Printable(legacyManifest)}' does not match the snapshot; allowed: '{StoredFileName.LegacyManifestFileName(snapshot)}'");
            legacyManifest = null;
        }

        if (kind == StreamKind.Full && values.TryGetValue(ManifestKeys.Parent, out var p))
        {
            errors.Add($"{sourceName}:{p.Line}: parent: a full stream has no parent; allowed: parent only with kind=incremental");
        }

        if (kind == StreamKind.Full && values.TryGetValue(ManifestKeys.ParentUuid, out var pu))
        {
            errors.Add($"{sourceName}:{pu.Line}: parent_uuid: a full stream has no parent; allowed: parent_uuid only with kind=incremental");
        }

        if (kind == StreamKind.Incremental && !values.ContainsKey(ManifestKeys.Parent))
        {
            errors.Add($"{sourceName}: missing key 'parent'; required when kind=incremental");
        }

        if (snapshot is not null && parent is not null && parent.TimestampUtc >= snapshot.TimestampUtc)
        {
            errors.Add($"{sourceName}:{values[ManifestKeys.Parent].Line}: parent: '{parent}' is not older than snapshot '{snapshot}'; allowed: a parent taken before the snapshot");
        }

        if (snapshot is not null && kind is { } k && values.TryGetValue(ManifestKeys.StreamFile, out var sf)
            && sf.Value != StoredFileName.StreamFileName(snapshot, k))
        {
            errors.Add($"{sourceName}:{sf.Line}: stream_file: '{NameText.Printable(sf.Value)}' does not match snapshot and kind; allowed: '{StoredFileName.StreamFileName(snapshot, k)}'");
        }

        if (errors.Count > 0 || set is null || snapshot is null || kind is null || bytes is null || sha is null
            || encryption is null || compression is null || proto is null || receivedAt is null || client is null)
        {
            return null;
        }

        return new Manifest
        {
            Set = set,
            Snapshot = snapshot,
            Kind = kind.Value,
            Parent = parent,
            StreamBytes = bytes.Value,
            StreamSha256 = sha,
            Encryption = encryption.Value,
            Compression = compression.Value,
            SendProto = proto.Value,
            ReceivedAtUtc = receivedAt.Value,
            Client = client,
            SnapshotUuid = snapshotUuid,
            ParentUuid = parentUuid,
            ProducerVersion = producerVersion,
            CanaryToken = canaryToken,
            Origin = origin,
            ParentInferred = parentInferred,
            LegacyManifest = legacyManifest,
            UnknownKeys = unknown,
        };
    }

    private static bool IsToken(string s)
        => s.Length is > 0 and <= 32 && (char.IsAsciiLetterLower(s[0]) || char.IsAsciiDigit(s[0])) && s.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || c == '-');

    internal static bool IsUuid(string s)
    {
        if (s.Length != 36)
        {
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            var ok = i is 8 or 13 or 18 or 23 ? s[i] == '-' : char.IsAsciiHexDigitLower(s[i]) || char.IsAsciiDigit(s[i]);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Why <paramref name="value"/> cannot be a manifest value, or null.</summary>
    internal static string? ValueProblem(string value) => ValueProblem(value.AsSpan());

    /// <inheritdoc cref="ValueProblem(string)"/>
    internal static string? ValueProblem(ReadOnlySpan<char> value)
    {
        if (value.Length > MaxValueLength)
        {
            return $"value is {value.Length} characters long; allowed: at most {MaxValueLength}";
        }

        // Printable ASCII, the usual case, needs no closer look.
        var i = value.IndexOfAnyExceptInRange(' ', '~');
        if (i < 0)
        {
            return null;
        }

        for (; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF')
            {
                return $"value '{NameText.Printable(value.ToString())}' contains {NameText.Describe(c)}; allowed: printable UTF-8 without control characters";
            }
        }

        return null;
    }

    /// <summary>The known key equal to <paramref name="key"/> (so known keys cost no string), or null.</summary>
    private static string? KnownKey(ReadOnlySpan<char> key)
    {
        foreach (var known in ManifestKeys.Known)
        {
            if (key.SequenceEqual(known))
            {
                return known;
            }
        }

        return null;
    }

    private static ManifestParseResult Fail(string error) => new(null, [error]);
}
