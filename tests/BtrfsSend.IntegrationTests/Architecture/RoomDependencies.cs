using System.Reflection;
using System.Reflection.Emit;

namespace BtrfsSend.IntegrationTests.Architecture;

/// <summary>
/// Which rooms (namespaces such as <c>BtrfsSend.Core.Processes</c>; deeper namespaces belong to
/// their room) each room of the compiled assemblies uses: through base types, interfaces, fields,
/// properties and method signatures, and every type, method and field its IL touches (lambdas,
/// iterators and async state machines are nested types, so they count for their room). Outside
/// namespaces (System.CommandLine, Serilog.Sinks.Console) are kept whole.
/// </summary>
internal static class RoomDependencies
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OneByte = AllOpCodes().Where(o => o.Size == 1).ToDictionary(o => o.Value);

    private static readonly Dictionary<short, OpCode> TwoByte = AllOpCodes().Where(o => o.Size == 2).ToDictionary(o => o.Value);

    /// <summary>Room → the rooms and outside namespaces it uses (itself excluded).</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Of(params Assembly[] assemblies)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (RoomOf(type) is not { } room || !room.StartsWith("BtrfsSend.", StringComparison.Ordinal))
            {
                continue;
            }

            if (!graph.TryGetValue(room, out var uses))
            {
                graph[room] = uses = new HashSet<string>(StringComparer.Ordinal);
            }

            foreach (var used in UsedBy(type).SelectMany(Expand).Select(RoomOf).OfType<string>())
            {
                if (used != room)
                {
                    uses.Add(used);
                }
            }
        }

        return graph.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<string>)kv.Value, StringComparer.Ordinal);
    }

    /// <summary>A cycle among the rooms, as "A → B → A", or null when there is none.</summary>
    public static string? FindCycle(IReadOnlyDictionary<string, IReadOnlySet<string>> graph)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the path, 2 = done
        var path = new List<string>();

        string? Visit(string room)
        {
            state[room] = 1;
            path.Add(room);
            IEnumerable<string> uses = graph.TryGetValue(room, out var found) ? found : [];
            foreach (var next in uses.Where(graph.ContainsKey).Order(StringComparer.Ordinal))
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    return string.Join(" → ", path.SkipWhile(r => r != next).Append(next));
                }

                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[room] = 2;
            return null;
        }

        foreach (var room in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(room) == 0 && Visit(room) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }

    /// <summary><c>BtrfsSend.Producer.Commands.Shared</c> → <c>BtrfsSend.Producer.Commands</c>; outside namespaces unchanged.</summary>
    public static string? RoomOf(Type type)
    {
        var ns = type.Namespace;
        if (ns is null)
        {
            return null;
        }

        var parts = ns.Split('.');
        return parts[0] == "BtrfsSend" && parts.Length > 3 ? string.Join('.', parts.Take(3)) : ns;
    }

    private static IEnumerable<Type> UsedBy(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var used in type.GetInterfaces())
        {
            yield return used;
        }

        foreach (var field in type.GetFields(Everything))
        {
            yield return field.FieldType;
        }

        foreach (var property in type.GetProperties(Everything))
        {
            yield return property.PropertyType;
        }

        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }

            foreach (var touched in TouchedBy(method))
            {
                yield return touched;
            }
        }
    }

    /// <summary>The types whose members a method's IL names (calls, fields, type tokens).</summary>
    private static List<Type> TouchedBy(MethodBase method)
    {
        var touched = new List<Type>();
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            return touched;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var i = 0;
        while (i < il.Length)
        {
            var op = il[i] == 0xFE ? TwoByte[unchecked((short)(0xFE00 | il[i + 1]))] : OneByte[il[i]];
            i += op.Size;
            switch (op.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                    if (Resolve(method.Module, BitConverter.ToInt32(il, i), typeArguments, methodArguments) is { } member)
                    {
                        touched.Add(member);
                    }

                    i += 4;
                    break;
                default: // InlineBrTarget, InlineI, ShortInlineR, InlineString, InlineSig
                    i += 4;
                    break;
            }
        }

        return touched;
    }

    private static Type? Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return module.ResolveMember(token, typeArguments, methodArguments) switch
            {
                Type type => type,
                MemberInfo member => member.DeclaringType,
                _ => null,
            };
        }
        catch (Exception ex) when (ex is ArgumentException or TypeLoadException or FileNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }

    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.HasElementType && type.GetElementType() is { } element)
        {
            foreach (var inner in Expand(element))
            {
                yield return inner;
            }

            yield break;
        }

        if (type.IsGenericParameter)
        {
            yield break;
        }

        yield return type;
        if (type.IsConstructedGenericType)
        {
            foreach (var argument in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return argument;
            }
        }
    }

    private static IEnumerable<OpCode> AllOpCodes()
        => typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!);
}
