using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>
/// The live-capture filter of the Windows source (the seed's filter, configurable): a process record is
/// kept when its user SID starts with one of <see cref="WindowsCaptureOptions.UserSidPrefixes"/> and its
/// executable path contains none of <see cref="WindowsCaptureOptions.ExcludePathsContaining"/> (both
/// case-insensitive). The same rule for starts and exits, so a kept start keeps its exit (the seed's
/// 4689 filter lacked "Amazon", leaving exits of Amazon programs without their starts).
/// An exit without an executable path is judged on its user only.
/// </summary>
public sealed class WindowsCaptureFilter(WindowsCaptureOptions options)
{
    private readonly string[] _excludes = [.. options.EffectiveExcludePaths];
    private readonly string[] _sidPrefixes = [.. options.EffectiveUserSidPrefixes];

    /// <summary>Why the record is dropped, or null to keep it.</summary>
    public string? DropReason(ProcessRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_sidPrefixes.Length > 0 && (record.User is null || !_sidPrefixes.Any(p => record.User.StartsWith(p, StringComparison.OrdinalIgnoreCase))))
        {
            return "user " + (record.User ?? "(none)");
        }

        if (record.Executable is { } exe)
        {
            foreach (var pattern in _excludes)
            {
                if (exe.Contains(pattern, StringComparison.OrdinalIgnoreCase))
                {
                    return "path contains " + pattern;
                }
            }
        }

        return null;
    }

    public bool Keep(ProcessRecord record) => DropReason(record) is null;
}
