using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Journald;

/// <summary>How far a journald source has read: the cursor of the last entry whose record is durable.</summary>
public sealed record JournalBookmark
{
    public required string Cursor { get; init; }

    public required DateTimeOffset SavedAt { get; init; }
}

/// <summary>Counters of a journald source.</summary>
public sealed class JournalStats
{
    public EventCounter Entries { get; } = new();

    public EventCounter Errors { get; } = new();

    /// <summary>How many times journalctl was started.</summary>
    public EventCounter Starts { get; } = new();
}

/// <summary>
/// "JournaldSource": runs <c>journalctl --output=json --follow --all --no-pager</c> (after the saved cursor,
/// or from now / from the start on a first start) and turns each line into a record
/// (<see cref="JournalEntry"/>). The bookmark (the cursor of the last record) is saved only after
/// <see cref="IDurableRecordOutput.WhenDurableAsync"/>. When journalctl exits it is started again after the
/// last cursor read, so nothing is lost or repeated. journalctl missing, or failing before it gave any entry,
/// throws with its message: the agent shows it in its status and starts the source again later.
/// </summary>
public sealed partial class JournaldSource(JournaldOptions options, LogSourceContext context) : IRecordSource
{
    private const int StderrKeep = 2048;
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);
    private readonly ILogger _logger = context.Logs.CreateLogger("SessionTrail.Agent.Logs.Journald." + context.Id);

    public string Name => context.Id;

    public JournalStats Stats { get; } = new();

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var durable = output as IDurableRecordOutput
            ?? throw new InvalidOperationException("the journald source needs an output that reports durability (the agent's pump)");
        var cursor = LoadCursor();
        LogStart(_logger, context.Id, cursor is null ? $"first start ({options.InitialPosition})" : "after cursor " + cursor);
        var bookmark = new DurableBookmark<string>(durable, c => context.Bookmarks.Save(context.Id, new JournalBookmark { Cursor = c, SavedAt = context.Time.GetUtcNow() },
            JournalJsonContext.Default.JournalBookmark), options.BookmarkEveryEntries, options.BookmarkInterval, context.Time);
        var delay = options.RestartDelay;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var (last, entries, exit) = await RunJournalctlAsync(cursor, output, bookmark, cancellationToken);
                cursor = last ?? cursor;
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                await bookmark.SaveAsync(cancellationToken);
                if (entries == 0 && exit.Code != 0 && exit.Stderr.Trim() is { Length: > 0 } problem)
                {
                    // It refused to run (bad directory, bad cursor, no permission): the agent reports this and retries later.
                    throw new InvalidOperationException($"{options.JournalctlPath} exited with code {exit.Code}: {problem}");
                }

                // Exited after running (killed, crashed, journal rotated away): again after the last cursor; quicker when it was reading.
                delay = entries > 0 ? options.RestartDelay : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRestartDelay.Ticks));
                LogRestart(_logger, context.Id, exit.Code, delay.TotalSeconds);
                await Task.Delay(delay, context.Time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private string? LoadCursor()
    {
        try
        {
            return context.Bookmarks.Load(context.Id, JournalJsonContext.Default.JournalBookmark)?.Cursor is { Length: > 0 } c ? c : null;
        }
        catch (InvalidDataException ex)
        {
            LogBadBookmark(_logger, context.Id, ex.Message);
            return null;
        }
    }

    /// <summary>One run of journalctl until it exits (or cancellation); returns the last cursor read, the entries read and how it ended.</summary>
    private async Task<(string? Cursor, long Entries, (int Code, string Stderr) Exit)> RunJournalctlAsync(
        string? after, IRecordOutput output, DurableBookmark<string> bookmark, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(options.JournalctlPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in options.Arguments(after))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SYSTEMD_COLORS"] = "0";
        Process process;
        try
        {
            process = Recording.ExternalTool.Start(start);
        }
        catch (ExternalProgramException ex)
        {
            throw ex.WithHint("install systemd's journalctl or set JournalctlPath in the source's config");
        }

        Stats.Starts.Increment();
        using (process)
        {
            process.StandardInput.Close();
            var stderr = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                lock (stderr)
                {
                    if (e.Data is not null && stderr.Length < StderrKeep)
                    {
                        stderr.AppendLine(e.Data);
                    }
                }
            };
            process.BeginErrorReadLine();
            using var kill = cancellationToken.Register(() => Kill(process));
            string? cursor = null;
            long entries = 0;
            var lineNumber = 0;
            try
            {
                var reader = process.StandardOutput;
                var readLine = reader.ReadLineAsync(cancellationToken).AsTask();
                while (true)
                {
                    if (!readLine.IsCompleted)
                    {
                        // journalctl went quiet: everything read so far may be bookmarked.
                        await bookmark.SaveIfDueAsync(idle: true, cancellationToken);
                    }

                    var line = await readLine;
                    if (line is null)
                    {
                        break;
                    }

                    readLine = reader.ReadLineAsync(cancellationToken).AsTask();
                    lineNumber++;
                    if (line.Length == 0)
                    {
                        continue;
                    }

                    var result = JournalEntry.Parse(Encoding.UTF8.GetBytes(line), context.Host, context.Id);
                    if (result.Record is { } record)
                    {
                        await output.WriteAsync(record, cancellationToken);
                        Stats.Entries.Increment();
                        entries++;
                    }
                    else
                    {
                        Stats.Errors.Increment();
                        LogBadEntry(_logger, context.Id, lineNumber, result.Error ?? "unknown");
                    }

                    if (result.Cursor is { } c)
                    {
                        cursor = c;
                        bookmark.Advance(c);
                    }

                    await bookmark.SaveIfDueAsync(idle: false, cancellationToken);
                }
            }
            finally
            {
                Kill(process);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            string text;
            lock (stderr)
            {
                text = stderr.ToString();
            }

            return (cursor, entries, (process.ExitCode, text));
        }
    }

    /// <summary>Ends the journalctl this source started (only it: by its own process object).</summary>
    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (Win32Exception)
        {
        }
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "journald source {SourceId}: starting {Where}")]
    private static partial void LogStart(ILogger logger, string sourceId, string where);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "journald source {SourceId}: journalctl exited (code {Code}); starting it again after the last cursor in {Seconds} s")]
    private static partial void LogRestart(ILogger logger, string sourceId, int code, double seconds);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Warning, Message = "journald source {SourceId}: journalctl output line {Line} not shipped: {Problem}")]
    private static partial void LogBadEntry(ILogger logger, string sourceId, int line, string problem);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Warning, Message = "journald source {SourceId}: bookmark unreadable ({Problem}): starting as on a first start")]
    private static partial void LogBadBookmark(ILogger logger, string sourceId, string problem);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JournalBookmark))]
internal sealed partial class JournalJsonContext : JsonSerializerContext;
