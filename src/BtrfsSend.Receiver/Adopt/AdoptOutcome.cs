namespace BtrfsSend.Receiver.Adopt;

/// <summary>What <c>adopt</c> did to one set (or would do, with <c>--dry-run</c>).</summary>
internal sealed record AdoptOutcome(int Adopted, int AlreadyOurs, int Refused);
