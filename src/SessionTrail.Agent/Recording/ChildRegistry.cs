using System.Diagnostics;
using System.Globalization;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Storage;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// The recorder's child processes (ffmpeg, the notice window), persisted in DIR/agent/recorder/children
/// ("pid start-identity" per line; the start identity is /proc/PID/stat's start time on Linux, the process
/// start time on Windows, so a reused pid is never mistaken for ours). Every exit path kills what is listed;
/// after a crash, the next start kills the leftovers (<see cref="KillLeftovers"/>).
/// </summary>
public sealed class ChildRegistry
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, string> _children = [];

    public ChildRegistry(string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(stateDirectory);
        RecordingFiles.CreatePrivateDirectory(stateDirectory);
        _path = Path.Combine(stateDirectory, "children");
    }

    public string FilePath => _path;

    /// <summary>Pids now registered.</summary>
    public IReadOnlyList<int> Pids
    {
        get
        {
            lock (_lock)
            {
                return [.. _children.Keys];
            }
        }
    }

    /// <summary>Registers a started child; false when it already exited (nothing to register).</summary>
    public bool Add(int pid)
    {
        var identity = StartIdentity(pid);
        if (identity is null)
        {
            return false;
        }

        lock (_lock)
        {
            _children[pid] = identity;
            Save();
        }

        return true;
    }

    public void Remove(int pid)
    {
        lock (_lock)
        {
            if (_children.Remove(pid))
            {
                Save();
            }
        }
    }

    /// <summary>Kills (SIGKILL / TerminateProcess, whole tree) every registered child still alive; returns the pids killed.</summary>
    public IReadOnlyList<int> KillAll()
    {
        List<KeyValuePair<int, string>> all;
        lock (_lock)
        {
            all = [.. _children];
        }

        var killed = all.Where(c => KillIfSame(c.Key, c.Value)).Select(c => c.Key).ToList();
        lock (_lock)
        {
            _children.Clear();
            Save();
        }

        return killed;
    }

    /// <summary>
    /// At start: kills the children a previous (crashed) agent left, as listed in the file — only those whose
    /// start identity still matches — and empties the list. Returns the pids killed.
    /// </summary>
    public IReadOnlyList<int> KillLeftovers()
    {
        lock (_lock)
        {
            if (!File.Exists(_path))
            {
                return [];
            }

            foreach (var line in File.ReadAllLines(_path))
            {
                var parts = line.Split(' ', 2, StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
                {
                    _children[pid] = parts[1];
                }
            }
        }

        return KillAll();
    }

    /// <summary>The start identity of a live process, or null when it does not exist.</summary>
    public static string? StartIdentity(int pid)
    {
        if (HostOs.IsLinux)
        {
            return ProcFs.ReadStartTicks(pid)?.ToString(CultureInfo.InvariantCulture);
        }

        try
        {
            using var p = Process.GetProcessById(pid);
            return p.StartTime.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static bool KillIfSame(int pid, string identity)
    {
        if (StartIdentity(pid) != identity)
        {
            return false;
        }

        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private void Save() =>
        RecordingFiles.WritePrivateAtomically(_path, string.Concat(_children.Select(c => $"{c.Key.ToString(CultureInfo.InvariantCulture)} {c.Value}\n")));
}
