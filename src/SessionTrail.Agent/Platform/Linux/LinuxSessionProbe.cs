using System.Globalization;
using SessionTrail.Agent.Sessions;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>Live audit sessions from /proc/*/sessionid (processes outside a login session, (u32)-1, are ignored).</summary>
public sealed class LinuxSessionProbe(string procRoot = "/proc") : ILiveSessionProbe
{
    public IReadOnlySet<long> LiveSessions()
    {
        var live = new HashSet<long>();
        foreach (var dir in Directory.EnumerateDirectories(procRoot))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            try
            {
                var text = File.ReadAllText(Path.Combine(dir, "sessionid")).Trim();
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ses) && ses < SessionAttributionPipe.UnsetAuditSession)
                {
                    live.Add(ses);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process exited while we looked.
            }
        }

        return live;
    }
}
