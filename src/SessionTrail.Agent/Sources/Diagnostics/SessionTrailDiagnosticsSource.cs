using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sources.Diagnostics;

/// <summary>
/// "SessionTrailDiagnostics": the agent's own log events (from <see cref="AgentDiagnosticsHub"/>) at or above
/// "MinimumLevel" (default Warning) as log records: Channel <c>sessiontrail-agent</c>, Provider = the logger
/// category, EventId, Level (Trace .. Critical), Message, Fields = the event's named values plus
/// <c>ExceptionType</c>, <c>ExceptionMessage</c> and <c>Exception</c> (the full text, clipped) when there is one.
/// Ids are deterministic per agent run (run start + sequence). Events the buffer had to drop are reported as
/// one Warning record with the count. In memory only: no bookmark (what is buffered at a crash is lost).
/// </summary>
public sealed class SessionTrailDiagnosticsSource(AgentDiagnosticsHub hub, LogLevel minimumLevel, LogSourceContext context) : IRecordSource
{
    public const string Channel = "sessiontrail-agent";
    private const int MaxException = 8192;
    private long _reportedDropped;

    public string Name => context.Id;

    public LogLevel MinimumLevel => minimumLevel;

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        hub.Require(minimumLevel);
        var reader = hub.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                using (AgentDiagnosticsHub.Suppress())
                {
                    await ReportDroppedAsync(output, cancellationToken);
                    while (reader.TryRead(out var e))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (e.Level >= minimumLevel)
                        {
                            await output.WriteAsync(ToRecord(e), cancellationToken);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The record of one event.</summary>
    public LogRecord ToRecord(AgentLogEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var fields = new Dictionary<string, string>(e.State, StringComparer.Ordinal);
        if (e.EventName is { Length: > 0 } name)
        {
            fields["EventName"] = name;
        }

        if (e.Exception is { } ex)
        {
            fields["ExceptionType"] = ex.GetType().FullName ?? ex.GetType().Name;
            fields["ExceptionMessage"] = ex.Message;
            var text = ex.ToString();
            fields["Exception"] = text.Length <= MaxException ? text : text[..MaxException] + "…";
        }

        return new LogRecord
        {
            Id = LogIds.For(context.Host, context.Id, RunPosition(e.Sequence.ToString(CultureInfo.InvariantCulture))),
            Time = e.Time,
            Host = context.Host,
            Source = context.Id,
            Channel = Channel,
            Provider = e.Category,
            EventId = e.EventId == 0 ? null : e.EventId,
            Level = e.Level.ToString(),
            Message = e.Message,
            Fields = fields,
        };
    }

    private async ValueTask ReportDroppedAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var dropped = hub.Dropped;
        if (dropped <= _reportedDropped)
        {
            return;
        }

        var newly = dropped - _reportedDropped;
        _reportedDropped = dropped;
        await output.WriteAsync(new LogRecord
        {
            Id = LogIds.For(context.Host, context.Id, RunPosition("dropped:" + dropped.ToString(CultureInfo.InvariantCulture))),
            Time = hub.Time.GetUtcNow(),
            Host = context.Host,
            Source = context.Id,
            Channel = Channel,
            Provider = AgentDiagnosticsHub.OwnCategoryPrefix,
            Level = nameof(LogLevel.Warning),
            Message = FormattableString.Invariant($"{newly} agent log events were dropped: the diagnostics buffer ({hub.Capacity} events) was full ({dropped} dropped since the agent started)"),
            Fields = new Dictionary<string, string>
            {
                ["Dropped"] = newly.ToString(CultureInfo.InvariantCulture),
                ["DroppedTotal"] = dropped.ToString(CultureInfo.InvariantCulture),
                ["Capacity"] = hub.Capacity.ToString(CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
    }

    private string RunPosition(string what) => hub.RunStarted.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) + ":" + what;
}

/// <summary>"SourceType": "SessionTrailDiagnostics" — the agent's own log events ("MinimumLevel", default Warning).</summary>
public sealed class SessionTrailDiagnosticsSourceFactory(AgentDiagnosticsHub hub) : ILogSourceFactory
{
    public SessionTrailDiagnosticsSourceFactory()
        : this(AgentDiagnosticsHub.Shared)
    {
    }

    public string SourceType => "SessionTrailDiagnostics";

    public IRecordSource Create(ConfigNode config, LogSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        SourceConfigKeys.WarnUnknown(config, SourceType, ["MinimumLevel"], context.Logs.CreateLogger("SessionTrail.Agent.Logs"));
        var level = Enum.Parse<LogLevel>(config.OneOf("MinimumLevel", nameof(LogLevel.Warning),
            nameof(LogLevel.Trace), nameof(LogLevel.Debug), nameof(LogLevel.Information), nameof(LogLevel.Warning), nameof(LogLevel.Error), nameof(LogLevel.Critical)));
        hub.Require(level);
        return new SessionTrailDiagnosticsSource(hub, level, context);
    }
}
