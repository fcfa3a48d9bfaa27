using System.Text.RegularExpressions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>
/// KinesisTap's <c>RegexFilterPipe</c>: a log record passes when <see cref="FilterPattern"/> matches
/// (or, with <c>Negate</c>, when it does not). It matches KinesisTap's plain-text rendering
/// (<see cref="LogRecordText.Render"/>) unless <c>Field</c> (our extension) names one field.
/// A match that runs longer than the match timeout counts as no match (and is counted in
/// <see cref="Timeouts"/>), so a pathological pattern cannot hang the pump.
/// As an <see cref="IRecordPipe"/> it drops the log records that do not pass and lets every other record
/// through; the pump's log routing calls <see cref="Passes"/> per pipe of a source (one filter per sink).
/// </summary>
public sealed class RegexFilterPipe : IRecordPipe
{
    /// <summary>The pipe "Type" value.</summary>
    public const string TypeName = "RegexFilterPipe";

    /// <summary>Default longest time one match may take.</summary>
    public static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Regex _regex;
    private readonly Func<LogRecord, string?>? _field;
    private long _timeouts;
    private long _passed;
    private long _blocked;

    /// <param name="pattern">The regular expression (.NET syntax).</param>
    /// <param name="field">Null for KinesisTap's rendering, else the field to match.</param>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public RegexFilterPipe(string pattern, bool ignoreCase = false, bool multiline = false, bool rightToLeft = false, bool negate = false, string? field = null, TimeSpan? matchTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var options = RegexOptions.CultureInvariant | RegexOptions.Compiled;
        if (ignoreCase)
        {
            options |= RegexOptions.IgnoreCase;
        }

        if (multiline)
        {
            options |= RegexOptions.Multiline;
        }

        if (rightToLeft)
        {
            options |= RegexOptions.RightToLeft;
        }

        _regex = new Regex(pattern, options, matchTimeout ?? DefaultMatchTimeout);
        _field = field is null ? null : LogRecordText.Accessor(field);
        FilterPattern = pattern;
        Negate = negate;
        Field = field;
    }

    public string FilterPattern { get; }

    public bool Negate { get; }

    /// <summary>The field matched, or null for the plain-text rendering.</summary>
    public string? Field { get; }

    /// <summary>Matches that hit the timeout (each counted as no match).</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    public long Passed => Interlocked.Read(ref _passed);

    public long Blocked => Interlocked.Read(ref _blocked);

    /// <summary>A log record that does not pass is dropped (null); any other record is returned as is.</summary>
    public TrailRecord? Process(TrailRecord record) => record is not LogRecord log || Passes(log) ? record : null;

    /// <summary>True when the record passes this filter. A missing field is matched as "".</summary>
    public bool Passes(LogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var text = _field is null ? LogRecordText.Render(record) : _field(record) ?? "";
        bool matched;
        try
        {
            matched = _regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            Interlocked.Increment(ref _timeouts);
            matched = false;
        }

        var passes = matched != Negate;
        Interlocked.Increment(ref passes ? ref _passed : ref _blocked);
        return passes;
    }
}
