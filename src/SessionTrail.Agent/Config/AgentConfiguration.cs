using Microsoft.Extensions.Configuration;

namespace SessionTrail.Agent.Config;

/// <summary>Builds <see cref="AgentOptions"/> from a JSON config file and command-line overrides.</summary>
public static class AgentConfiguration
{
    /// <summary>The JSON section the agent reads, e.g. <c>{ "Agent": { "ServerUrl": "...", "Token": "..." } }</c>.</summary>
    public const string SectionName = "Agent";

    /// <summary>
    /// Reads <paramref name="configFile"/> (optional; must exist when given), applies
    /// <paramref name="overrides"/> (keys are option names, e.g. "ServerUrl", "Token", "DataDir"; null
    /// values are ignored), validates and returns the options. Throws <see cref="FileNotFoundException"/>
    /// for a missing file, <see cref="InvalidDataException"/> for unreadable JSON or values of the wrong type,
    /// and <see cref="AgentOptionsException"/> naming a bad setting.
    /// </summary>
    public static AgentOptions Load(string? configFile, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        if (!string.IsNullOrEmpty(configFile))
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
            {
                throw new FileNotFoundException($"Config file {full} not found.", full);
            }

            // Read as the log-shipping loader reads it (non-breaking spaces pasted from a web page are spaces).
            builder.AddJsonStream(new MemoryStream(Logs.Config.ConfigJson.ReadFile(full)));
        }

        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides
                .Where(kv => kv.Value is not null)
                .Select(kv => new KeyValuePair<string, string?>(SectionName + ":" + kv.Key, kv.Value)));
        }

        var options = new AgentOptions();
        try
        {
            var configuration = builder.Build();
            configuration.GetSection(SectionName).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidDataException($"Agent configuration is invalid: {ex.Message}", ex);
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException($"Agent configuration is invalid: {ex.Message}", ex);
        }

        options.Validate();
        return options;
    }
}
