using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Diagnostics;

/// <summary>
/// The <see cref="ILoggerProvider"/> that puts the agent's own log events into an <see cref="AgentDiagnosticsHub"/>
/// (by default <see cref="AgentDiagnosticsHub.Shared"/>) for the <c>SessionTrailDiagnostics</c> source. Wiring:
/// <c>logging.AddProvider(new AgentDiagnosticsLoggerProvider())</c> in the agent's logger factory.
/// Cheap when nothing is buffered (<see cref="ILogger.IsEnabled"/> checks the hub's level first).
/// </summary>
public sealed class AgentDiagnosticsLoggerProvider(AgentDiagnosticsHub hub) : ILoggerProvider
{
    public AgentDiagnosticsLoggerProvider()
        : this(AgentDiagnosticsHub.Shared)
    {
    }

    public ILogger CreateLogger(string categoryName) => new HubLogger(hub, categoryName);

    public void Dispose()
    {
    }

    private sealed class HubLogger(AgentDiagnosticsHub hub, string category) : ILogger
    {
        private const int MaxValue = 8192;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => hub.Accepts(category, logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!hub.Accepts(category, logLevel) || formatter is null)
            {
                return;
            }

            string message;
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                message = formatter(state, exception);
                if (state is IReadOnlyList<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        if (key != "{OriginalFormat}" && value is not null)
                        {
                            values[key] = Clip(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
                        }
                    }
                }
            }
#pragma warning disable CA1031 // a logger must never throw into the code that logs
            catch (Exception ex)
#pragma warning restore CA1031
            {
                message = "(the log message could not be formatted: " + ex.GetType().Name + ")";
            }

            hub.Add(category, logLevel, eventId, message, values, exception);
        }

        private static string Clip(string s) => s.Length <= MaxValue ? s : s[..MaxValue] + "…";
    }
}
