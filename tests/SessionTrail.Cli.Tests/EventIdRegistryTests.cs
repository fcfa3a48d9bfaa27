using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Logging;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// One registry of log event ids (src/EventIds.md): every <c>[LoggerMessage]</c> of the product's assemblies has an id no
/// other message has, inside a range its assembly has in the registry.
/// </summary>
public sealed class EventIdRegistryTests
{
    private static readonly string[] Assemblies = ["SessionTrail.Core", "SessionTrail.Agent", "SessionTrail.Server", "sessiontrail"];

    private sealed record Message(int Id, string Assembly, string Where);

    private sealed record Range(int From, int To, string Assembly);

    [Fact]
    public void EveryEventIdIsUsedOnce()
    {
        var duplicates = Messages()
            .GroupBy(m => m.Id)
            .Where(g => g.Count() > 1)
            .Select(g => $"EventId {g.Key}: {string.Join(", ", g.Select(m => m.Where))}")
            .ToList();

        Assert.True(duplicates.Count == 0, "EventIds used more than once (take a free id of the area, src/EventIds.md):\n" + string.Join('\n', duplicates));
    }

    [Fact]
    public void EveryEventIdIsInARangeOfItsAssembly()
    {
        var ranges = Ranges();
        var outside = Messages()
            .Where(m => !ranges.Any(r => r.Assembly == m.Assembly && m.Id >= r.From && m.Id <= r.To))
            .Select(m => $"EventId {m.Id} ({m.Where}) is in no range of {m.Assembly}")
            .ToList();

        Assert.True(outside.Count == 0, "EventIds outside src/EventIds.md:\n" + string.Join('\n', outside));
    }

    [Fact]
    public void TheRegistryFindsTheMessagesAndItsRangesDoNotOverlap()
    {
        Assert.True(Messages().Count > 100, "expected the product's [LoggerMessage] methods");
        var ranges = Ranges().OrderBy(r => r.From).ToList();
        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i - 1].To < ranges[i].From, $"ranges {ranges[i - 1]} and {ranges[i]} overlap");
        }
    }

    private static List<Message> Messages() =>
        [.. Assemblies.Select(Assembly.Load).SelectMany(assembly => Types(assembly)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => new Message(m.Attribute!.EventId, assembly.GetName().Name!, $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}")))];

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            // A type whose base lives in a Windows-only package is left out; its siblings are still checked.
            return e.Types.OfType<Type>();
        }
    }

    /// <summary>The rows "| From | To | Assembly | Area |" of src/EventIds.md.</summary>
    private static List<Range> Ranges() =>
        [.. File.ReadLines(Path.Combine(Repository.Root, "src", "EventIds.md"))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries))
            .Where(cells => cells.Length >= 5 && int.TryParse(cells[1], CultureInfo.InvariantCulture, out _))
            .Select(cells => new Range(int.Parse(cells[1], CultureInfo.InvariantCulture), int.Parse(cells[2], CultureInfo.InvariantCulture), cells[3]))];
}
