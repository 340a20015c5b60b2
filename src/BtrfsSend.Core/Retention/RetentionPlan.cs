using System.Globalization;
using System.Text;

namespace BtrfsSend.Core.Retention;

/// <summary>
/// The planner's answer: one decision per item, newest first, and the problems found while adding
/// ancestors (a kept incremental whose parent is not there: its chain is broken).
/// </summary>
public sealed record RetentionPlan(IReadOnlyList<RetentionDecision> Decisions, IReadOnlyList<string> Problems)
{
    public IEnumerable<RetentionDecision> Kept => Decisions.Where(d => d.Keep);

    public IEnumerable<RetentionDecision> Deleted => Decisions.Where(d => !d.Keep);

    /// <summary>One line per item, newest first: <c>keep|delete  id  time  reason; reason</c>, then the problems.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        foreach (var d in Decisions)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{(d.Keep ? "keep  " : "delete")}  {d.Id}  {d.Time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}  {string.Join("; ", d.Reasons)}\n");
        }

        foreach (var problem in Problems)
        {
            sb.Append(CultureInfo.InvariantCulture, $"problem  {problem}\n");
        }

        return sb.ToString();
    }
}
