using System.Reflection;

namespace BtrfsSend.Core.Hosting;

/// <summary>The informational version of the running program (e.g. <c>0.1.0+&lt;commit&gt;</c>).</summary>
public static class ProgramVersion
{
    public static string Current { get; } =
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ProgramVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";
}
