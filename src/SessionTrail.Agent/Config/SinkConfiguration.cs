using System.Globalization;
using Microsoft.Extensions.Configuration;
using SessionTrail.Agent.Sinks.S3;

namespace SessionTrail.Agent.Config;

/// <summary>
/// Reads the config file's top-level "Sinks" list: the sinks besides the SessionTrail server, e.g.
/// <c>"Sinks": [ { "Type": "S3", "Bucket": "my-bucket", "Region": "us-east-1" } ]</c>.
/// Entries with a "SinkType" are log sinks (KinesisTap's shape) and are read by
/// <see cref="LogConfigLoader"/>, not here.
/// </summary>
public static class SinkConfiguration
{
    public const string SectionName = "Sinks";

    /// <summary>
    /// The configured S3 sinks, validated. Throws <see cref="AgentOptionsException"/> naming the bad key
    /// (e.g. "Sinks:0:Bucket") and <see cref="InvalidDataException"/> for an unknown key or a value of the wrong type.
    /// </summary>
    public static IReadOnlyList<S3SinkOptions> LoadS3(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SectionName);
        var result = new List<S3SinkOptions>();
        foreach (var entry in section.GetChildren().OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue))
        {
            var path = SectionName + ":" + entry.Key;
            if (!int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new AgentOptionsException(SectionName, "must be a list of sinks, e.g. [ { \"Type\": \"S3\", ... } ]");
            }

            if (entry.GetSection("SinkType").Exists())
            {
                continue;
            }

            var options = new S3SinkOptions();
            var type = entry["Type"];
            if (string.Equals(type, S3SinkOptions.SinkType, StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    entry.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
                }
                catch (Exception ex) when (ex is InvalidOperationException or FormatException)
                {
                    throw new InvalidDataException($"Agent configuration is invalid: {path}: {ex.Message}", ex);
                }
            }
            else
            {
                options.Type = type;
            }

            options.Validate(path);
            result.Add(options);
        }

        return result;
    }
}
