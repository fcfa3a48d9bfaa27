namespace SessionTrail.Agent.Platform.Linux;

/// <summary>Why an exec is not captured.</summary>
internal enum FilterVerdict
{
    Capture,
    UidOutOfRange,
    PathNotIncluded,
    PathExcluded,
    AgentDescendant,
}

/// <summary>
/// The capture filters of <see cref="ProcessCaptureOptions"/>: uid range, include globs (empty =
/// all), exclude globs. Whether a process descends from the agent is known by the process table and
/// passed in.
/// </summary>
internal sealed class CaptureFilter
{
    private readonly PathGlob[] _include;
    private readonly PathGlob[] _exclude;
    private readonly long _minUid;
    private readonly long _maxUid;

    public CaptureFilter(ProcessCaptureOptions options)
    {
        _include = [.. options.Include.Select(p => new PathGlob(p))];
        _exclude = [.. options.Exclude.Select(p => new PathGlob(p))];
        _minUid = options.MinUid;
        _maxUid = options.MaxUid;
    }

    public FilterVerdict Decide(string executable, long? uid, bool agentDescendant)
    {
        if (agentDescendant)
        {
            return FilterVerdict.AgentDescendant;
        }

        if (uid is not { } u || u < _minUid || u > _maxUid)
        {
            return FilterVerdict.UidOutOfRange;
        }

        if (_include.Length > 0 && !_include.Any(g => g.IsMatch(executable)))
        {
            return FilterVerdict.PathNotIncluded;
        }

        return _exclude.Any(g => g.IsMatch(executable)) ? FilterVerdict.PathExcluded : FilterVerdict.Capture;
    }
}
