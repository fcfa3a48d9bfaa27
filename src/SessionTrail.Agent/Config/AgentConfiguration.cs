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
    /// <para>
    /// The agent's server: when neither the overrides (<c>--server</c>/<c>--token</c>) nor the file's "Agent"
    /// section give a token, and the server is not turned off (<c>"ServerUrl": ""</c>), the file's
    /// <c>"SinkType": "SessionTrail"</c> sinks that carry their own <c>Token</c> name it: their server (their
    /// <c>Url</c>, else the agent's ServerUrl) becomes the agent's, so process and session records go there too
    /// (through the agent's own queue; the sink keeps its queue). A ServerUrl that is given must be that server.
    /// Sinks naming two different servers, or none with a token, are an error saying what to add.
    /// </para>
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
            builder.AddJsonStream(new MemoryStream(ConfigJson.ReadFile(full)));
        }

        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides
                .Where(kv => kv.Value is not null)
                .Select(kv => new KeyValuePair<string, string?>(SectionName + ":" + kv.Key, kv.Value)));
        }

        var options = new AgentOptions();
        IConfiguration? configuration = null;
        try
        {
            configuration = builder.Build();
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

        if (!string.IsNullOrEmpty(configFile))
        {
            UseTheSinksServer(options, configuration!, overrides, configFile);
        }

        options.Validate();
        return options;
    }

    /// <summary>The SessionTrail log sink type's name in "Sinks" entries (see <see cref="SessionTrailSinkType"/>).</summary>
    private const string SessionTrailSinkType = "SessionTrail";

    private static void UseTheSinksServer(AgentOptions options, IConfiguration configuration, IReadOnlyDictionary<string, string?>? overrides, string configFile)
    {
        string? Given(string key) => overrides?.GetValueOrDefault(key) ?? configuration[SectionName + ":" + key];
        var givenUrl = Given(nameof(AgentOptions.ServerUrl));
        if (!string.IsNullOrWhiteSpace(Given(nameof(AgentOptions.Token))) || string.IsNullOrWhiteSpace(options.ServerUrl))
        {
            return; // a token is given, or the server sink is off
        }

        static string Same(string url) => url.Trim().TrimEnd('/');
        var servers = configuration.GetSection("Sinks").GetChildren()
            .Where(sink => string.Equals(sink["SinkType"], SessionTrailSinkType, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(sink["Token"]))
            .Select(sink => (Path: sink.Path, Url: string.IsNullOrWhiteSpace(sink["Url"]) ? options.ServerUrl! : sink["Url"]!, Token: sink["Token"]!))
            .Where(s => givenUrl is null || string.Equals(Same(s.Url), Same(givenUrl), StringComparison.OrdinalIgnoreCase))
            .ToList();
        var distinct = servers.DistinctBy(s => (Same(s.Url).ToUpperInvariant(), s.Token)).ToList();
        var file = Path.GetFileName(configFile);
        if (distinct.Count > 1)
        {
            throw new AgentOptionsException(nameof(AgentOptions.Token), $"is required when ServerUrl is set: the SessionTrail sinks of {file} name {distinct.Count} servers ({string.Join(", ", distinct.Select(s => $"{s.Path} {s.Url}"))}), so which one gets the process and session records is not clear; set \"Agent\": {{ \"ServerUrl\": \"...\", \"Token\": \"...\" }} in {file}, or give --server URL --token TOKEN");
        }

        if (distinct.Count == 0)
        {
            throw new AgentOptionsException(nameof(AgentOptions.Token), $"is required when ServerUrl is set ({options.ServerUrl}), and {file} names no token for it: give --server URL --token TOKEN, or add \"Agent\": {{ \"ServerUrl\": \"...\", \"Token\": \"...\" }} or a \"Url\" and \"Token\" on its \"SinkType\": \"SessionTrail\" sink to {file}; to deliver only to the configured Sinks set \"Agent\": {{ \"ServerUrl\": \"\" }}");
        }

        options.ServerUrl = distinct[0].Url;
        options.Token = distinct[0].Token;
    }
}
