namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>One backup set of the <see cref="ClockWorld"/>: its name, prod.conf, state file and local snapshot directory.</summary>
internal sealed record ClockSet(string Name, string ConfigFilePath, string StateFilePath, string SnapshotDirPath);
