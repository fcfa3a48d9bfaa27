using System.Globalization;
using Microsoft.Extensions.Configuration;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// One object of the log-shipping config (a source, a sink or a pipe) with its path, e.g. "Sinks:0".
/// Keys are case-insensitive (as in KinesisTap). Every getter throws <see cref="LogConfigException"/>
/// naming the full key path and what is wrong, never a NullReferenceException.
/// </summary>
public sealed class ConfigNode
{
    public ConfigNode(IConfigurationSection section, string path)
    {
        ArgumentNullException.ThrowIfNull(section);
        Section = section;
        Path = path;
    }

    public IConfigurationSection Section { get; }

    /// <summary>Full path, e.g. "Sources:0".</summary>
    public string Path { get; }

    /// <summary>Full path of <paramref name="key"/> inside this node.</summary>
    public string KeyPath(string key) => Path + ":" + key;

    /// <summary>The keys this node has (their spelling in the file).</summary>
    public IEnumerable<string> Keys => Section.GetChildren().Select(c => c.Key);

    public bool Has(string key) => Section.GetSection(key).Exists();

    /// <summary>The string value, or null when the key is absent or an empty string.</summary>
    public string? Optional(string key)
    {
        var child = Section.GetSection(key);
        if (child.GetChildren().Any())
        {
            throw new LogConfigException(KeyPath(key), "must be a single value, not an object or a list");
        }

        return string.IsNullOrEmpty(child.Value) ? null : child.Value;
    }

    public string Optional(string key, string defaultValue) => Optional(key) ?? defaultValue;

    /// <summary>The string value; throws "is required" when absent or empty.</summary>
    public string Required(string key) =>
        Optional(key) ?? throw new LogConfigException(KeyPath(key), "is required");

    public int Int(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = Optional(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new LogConfigException(KeyPath(key), $"must be a whole number, not '{text}'");
        }

        if (value < min || value > max)
        {
            throw new LogConfigException(KeyPath(key), $"must be between {min} and {max}, not {value}");
        }

        return value;
    }

    public long Long(string key, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        var text = Optional(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new LogConfigException(KeyPath(key), $"must be a whole number, not '{text}'");
        }

        if (value < min || value > max)
        {
            throw new LogConfigException(KeyPath(key), $"must be between {min} and {max}, not {value}");
        }

        return value;
    }

    public bool Bool(string key, bool defaultValue)
    {
        var text = Optional(key);
        if (text is null)
        {
            return defaultValue;
        }

        return bool.TryParse(text, out var value)
            ? value
            : throw new LogConfigException(KeyPath(key), $"must be true or false, not '{text}'");
    }

    /// <summary>A duration given in seconds (KinesisTap's BufferInterval); fractions allowed.</summary>
    public TimeSpan Seconds(string key, TimeSpan defaultValue, TimeSpan? min = null)
    {
        var text = Optional(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0 || seconds > 10_000_000)
        {
            throw new LogConfigException(KeyPath(key), $"must be a number of seconds, not '{text}'");
        }

        var value = TimeSpan.FromSeconds(seconds);
        if (min is { } lowest && value < lowest)
        {
            throw new LogConfigException(KeyPath(key), $"must be at least {lowest.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }

        return value;
    }

    /// <summary>A duration given in milliseconds (KinesisTap's Interval, MinReaderDelayMs).</summary>
    public TimeSpan Milliseconds(string key, TimeSpan defaultValue, TimeSpan? min = null)
    {
        var ms = Long(key, (long)defaultValue.TotalMilliseconds, 0, 1_000_000_000);
        var value = TimeSpan.FromMilliseconds(ms);
        if (min is { } lowest && value < lowest)
        {
            throw new LogConfigException(KeyPath(key), $"must be at least {lowest.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms");
        }

        return value;
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive), returned in the spelling of <paramref name="allowed"/>.</summary>
    public string OneOf(string key, string defaultValue, params string[] allowed)
    {
        var text = Optional(key);
        if (text is null)
        {
            return defaultValue;
        }

        return allowed.FirstOrDefault(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase))
            ?? throw new LogConfigException(KeyPath(key), $"must be one of {string.Join(", ", allowed)}, not '{text}'");
    }

    /// <summary>A list of strings: a JSON array, or (KinesisTap style) one string split on <paramref name="separator"/>.</summary>
    public IReadOnlyList<string> List(string key, char? separator = null)
    {
        var child = Section.GetSection(key);
        var items = child.GetChildren().ToList();
        if (items.Count > 0)
        {
            return [.. items.OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue)
                .Select(c => c.GetChildren().Any() ? throw new LogConfigException(KeyPath(key) + ":" + c.Key, "must be a single value") : c.Value ?? "")];
        }

        if (string.IsNullOrEmpty(child.Value))
        {
            return [];
        }

        return separator is { } sep
            ? [.. child.Value.Split(sep, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : [child.Value];
    }

    /// <summary>A nested object, e.g. a source's "Headers"; it may be absent (check with <see cref="Has"/>).</summary>
    public ConfigNode Child(string key) => new(Section.GetSection(key), KeyPath(key));

    /// <summary>The elements of a nested JSON array, in order.</summary>
    public IReadOnlyList<ConfigNode> Children(string key)
    {
        var child = Section.GetSection(key);
        return [.. child.GetChildren()
            .OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue)
            .Select(c => new ConfigNode(c, KeyPath(key) + ":" + c.Key))];
    }
}
