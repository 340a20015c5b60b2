namespace BtrfsSend.Receiver.Checks;

/// <summary>Nagios/Icinga plugin states; the numeric value is the exit code.</summary>
internal enum CheckStatus
{
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}
