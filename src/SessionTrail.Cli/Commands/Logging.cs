using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace SessionTrail.Cli.Commands;

/// <summary>The console logging every long-running command uses: one line per event, UTC times, on stderr.</summary>
internal static class Logging
{
    public static ILoggerFactory Create(LogLevel minimum = LogLevel.Information) => LoggerFactory.Create(b =>
    {
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
