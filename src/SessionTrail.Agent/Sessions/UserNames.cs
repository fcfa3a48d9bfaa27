using System.Globalization;

namespace SessionTrail.Agent.Sessions;

/// <summary>uid → login name from /etc/passwd (re-read at most once a minute on a miss). Null when unknown.</summary>
public sealed class UserNames(string passwdPath = "/etc/passwd")
{
    private readonly Lock _lock = new();
    private Dictionary<long, string> _names = [];
    private DateTime _loaded = DateTime.MinValue;

    public string? Lookup(long uid)
    {
        lock (_lock)
        {
            if (_names.TryGetValue(uid, out var name))
            {
                return name;
            }

            if (DateTime.UtcNow - _loaded < TimeSpan.FromMinutes(1))
            {
                return null;
            }

            _loaded = DateTime.UtcNow;
            _names = Load(passwdPath);
            return _names.GetValueOrDefault(uid);
        }
    }

    private static Dictionary<long, string> Load(string path)
    {
        var names = new Dictionary<long, string>();
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var parts = line.Split(':');
                if (parts.Length > 2 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
                {
                    names.TryAdd(uid, parts[0]);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return names;
    }
}
