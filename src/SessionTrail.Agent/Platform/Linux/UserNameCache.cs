namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// uid → login name from a passwd-format file (default /etc/passwd). The file is read once and read
/// again, at most every 10 seconds, when a uid is not found (a user added while the agent runs).
/// A missing or unreadable file gives null names, never an exception.
/// </summary>
internal sealed class UserNameCache
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private Dictionary<long, string> _names = [];
    private long _lastLoad = long.MinValue;
    private DateTime _lastWrite;

    public UserNameCache(TimeProvider time, string path = "/etc/passwd")
    {
        _path = path;
        _time = time;
    }

    /// <summary>
    /// The login name of <paramref name="uid"/>, or the uid in decimal when it has no passwd entry (as
    /// `ls -l` shows it), so that such a user still counts as a user in the reports; null without a uid.
    /// </summary>
    public string? NameOrUid(long? uid) =>
        Lookup(uid) ?? uid?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string? Lookup(long? uid)
    {
        if (uid is not { } u)
        {
            return null;
        }

        if (_names.TryGetValue(u, out var name))
        {
            return name;
        }

        long now = _time.GetTimestamp();
        if (_lastLoad == long.MinValue || _time.GetElapsedTime(_lastLoad, now) >= TimeSpan.FromSeconds(10))
        {
            _lastLoad = now;
            Reload();
            return _names.GetValueOrDefault(u);
        }

        return null;
    }

    private void Reload()
    {
        try
        {
            var info = new FileInfo(_path);
            if (!info.Exists || (_names.Count > 0 && info.LastWriteTimeUtc == _lastWrite))
            {
                return;
            }

            _lastWrite = info.LastWriteTimeUtc;
            _names = Parse(File.ReadAllLines(_path));
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Parses passwd lines "name:x:uid:gid:..."; the first name wins for a uid; bad lines are skipped.</summary>
    public static Dictionary<long, string> Parse(IEnumerable<string> lines)
    {
        var names = new Dictionary<long, string>();
        foreach (var line in lines)
        {
            var parts = line.Split(':');
            if (parts.Length >= 3 && parts[0].Length > 0 && long.TryParse(parts[2], out long uid))
            {
                names.TryAdd(uid, parts[0]);
            }
        }

        return names;
    }
}
