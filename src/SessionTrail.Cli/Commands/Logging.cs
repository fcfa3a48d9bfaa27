using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using SessionTrail.Agent.Sources.Diagnostics;

namespace SessionTrail.Cli.Commands;

/// <summary>The console logging every long-running command uses: one line per event, UTC times, on stderr.</summary>
internal static class Logging
{
    /// <param name="agentDiagnostics">Also feed the agent's own events to the "SessionTrailDiagnostics" log source.</param>
    public static ILoggerFactory Create(LogLevel minimum = LogLevel.Information, bool agentDiagnostics = false) => LoggerFactory.Create(b =>
    {
        if (agentDiagnostics)
        {
            b.AddProvider(new AgentDiagnosticsLoggerProvider());
        }

        b.SetMinimumLevel(minimum);
        b.AddFilter("Microsoft", LogLevel.Warning);
        b.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
