namespace SessionTrail.Agent.Sinks;

/// <summary>A sink's name names its queue folder and its dead-letter file: file-name safe and unique.</summary>
public static class SinkNames
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad or repeated name.</summary>
    public static void Validate(IEnumerable<ISink> sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        var all = sinks.ToList();
        var badName = all.FirstOrDefault(s => string.IsNullOrEmpty(s.Name) || !s.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || s.Name.StartsWith('.'));
        if (badName is not null)
        {
            throw new InvalidOperationException($"Sink name '{badName.Name}' must be letters, digits, '-', '_' or '.' (it names a folder).");
        }

        var duplicate = all.GroupBy(s => s.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two sinks are named '{duplicate.Key}'; sink names must be unique.");
        }
    }
}
