using System.Globalization;
using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Manifests;

/// <summary>Renders a <see cref="Manifest"/> in format 1: fixed key order, unknown keys last, LF line ends.</summary>
public static class ManifestWriter
{
    /// <summary>
    /// The manifest text. Throws <see cref="ArgumentException"/> if the manifest is inconsistent
    /// (a bug in the caller): a manifest this project writes must always read back.
    /// </summary>
    public static string Render(Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var sb = new StringBuilder(512);
        void Line(string key, string? value)
        {
            if (value is not null)
            {
                if (ManifestReader.ValueProblem(value) is { } problem)
                {
                    throw new ArgumentException($"refusing to write manifest key {NameText.Printable(key)}: {problem}", nameof(manifest));
                }

                sb.Append(key).Append('=').Append(value).Append('\n');
            }
        }

        sb.Append(Manifest.FormatLine).Append('\n');
        Line(ManifestKeys.Set, manifest.Set.Value);
        Line(ManifestKeys.Snapshot, manifest.Snapshot.Value);
        Line(ManifestKeys.Kind, ManifestKeys.Text(manifest.Kind));
        Line(ManifestKeys.Parent, manifest.Parent?.Value);
        Line(ManifestKeys.StreamFile, manifest.StreamFile);
        Line(ManifestKeys.StreamBytes, manifest.StreamBytes.ToString(CultureInfo.InvariantCulture));
        Line(ManifestKeys.StreamSha256, manifest.StreamSha256);
        Line(ManifestKeys.Encryption, ManifestKeys.Text(manifest.Encryption));
        Line(ManifestKeys.Compression, ManifestKeys.Text(manifest.Compression));
        Line(ManifestKeys.SendProto, manifest.SendProto.ToString(CultureInfo.InvariantCulture));
        Line(ManifestKeys.ReceivedAt, manifest.ReceivedAtUtc.ToString(ManifestKeys.ReceivedAtFormat, CultureInfo.InvariantCulture));
        Line(ManifestKeys.Client, manifest.Client);
        Line(ManifestKeys.SnapshotUuid, manifest.SnapshotUuid);
        Line(ManifestKeys.ParentUuid, manifest.ParentUuid);
        Line(ManifestKeys.ProducerVersion, manifest.ProducerVersion);
        Line(ManifestKeys.CanaryToken, manifest.CanaryToken);
        Line(ManifestKeys.Origin, manifest.Origin);
        Line(ManifestKeys.ParentInferred, manifest.ParentInferred ? "yes" : null);
        Line(ManifestKeys.LegacyManifest, manifest.LegacyManifest);
        foreach (var (key, value) in manifest.UnknownKeys)
        {
            Line(key, value);
        }

        var text = sb.ToString();
        var check = ManifestReader.Parse(text, "manifest being written");
        if (!check.IsValid)
        {
            throw new ArgumentException($"refusing to write a manifest that would not read back: {string.Join("; ", check.Errors)}", nameof(manifest));
        }

        if (check.Manifest != manifest with { ReceivedAtUtc = check.Manifest!.ReceivedAtUtc } || manifest.ReceivedAtUtc.Kind != DateTimeKind.Utc
            || manifest.ReceivedAtUtc.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException($"refusing to write manifest for '{NameText.Printable(manifest.Snapshot.Value)}': received_at must be a UTC DateTime in whole seconds", nameof(manifest));
        }

        return text;
    }
}
