using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// The built-in <c>"SinkType": "SessionTrail"</c>: a SessionTrail server. <c>Url</c> defaults to the
/// agent's "Agent:ServerUrl", <c>Token</c> to the agent's token. With neither key it is the agent's own
/// server sink (the same queue as process records); with its own Url it gets its own queue and sender.
/// </summary>
/// <param name="Url">The "Url" key, or null.</param>
/// <param name="Token">The "Token" key, or null.</param>
public sealed record SessionTrailSinkType(string? Url, string? Token)
{
    /// <summary>The SinkType value.</summary>
    public const string Name = "SessionTrail";

    /// <summary>The keys the entry may have.</summary>
    public static readonly IReadOnlySet<string> Keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Url", "Token" };
}
