using BtrfsSend.Core.Errors;

namespace BtrfsSend.Producer.Backup;

/// <summary>A quiesced service could not be restarted: the worst outcome, exit 7.</summary>
internal sealed class ServiceRestartException(IReadOnlyList<string> services, Exception? innerException)
    : BtrfsSendException($"service(s) {string.Join(", ", services)} could not be restarted and are DOWN: start them by hand (systemctl start {string.Join(' ', services)})", innerException)
{
    public override ExitCode ExitCode => ExitCode.ServiceRestartFailed;
}
