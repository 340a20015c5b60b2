namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The after-case check found an earlier backup changed, missing, unverifiable or unrestorable.
/// Its message starts with <see cref="Marker"/>, which scripts/reliability.sh counts as
/// "data lost", distinct from a case that merely failed its own assertions.
/// </summary>
internal sealed class DataLostException(string message, Exception? inner = null) : Exception($"{Marker} {message}", inner)
{
    public const string Marker = "DATA LOST:";
}
