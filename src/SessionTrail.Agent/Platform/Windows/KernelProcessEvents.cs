using System.Globalization;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>Who a process runs as and its Win32 path, looked up from the live process at its start.</summary>
public sealed record ProcessIdentity(string? UserSid, long? LogonId, string? Win32Path);

/// <summary>
/// Maps ETW Microsoft-Windows-Kernel-Process events (keyword WINEVENT_KEYWORD_PROCESS, 0x10) to process
/// records: event 1 ProcessStart (ProcessID, ParentProcessID, ImageName as an NT device path) and
/// event 2 ProcessStop (ProcessID, ExitCode, ImageName). These events carry no user and no command
/// line: the shell looks the user SID, logon id and Win32 path up from the live process at its start
/// (<see cref="ProcessIdentity"/>), and this class remembers them per pid for the exit (which comes
/// when the process is gone). Platform-neutral so that it is tested on Linux.
/// </summary>
public sealed class KernelProcessEvents(string host)
{
    public const string ProviderName = "Microsoft-Windows-Kernel-Process";
    public const ulong ProcessKeyword = 0x10;
    public const int ProcessStart = 1;
    public const int ProcessStop = 2;

    private readonly Dictionary<int, ProcessIdentity> _running = [];

    /// <summary>Processes started and not yet stopped (bounded by the host's live processes).</summary>
    public int Running => _running.Count;

    /// <summary>
    /// A record for events 1 and 2; null for other events or a payload without a usable ProcessID.
    /// <paramref name="identify"/> is called for starts only.
    /// </summary>
    public ProcessRecord? Map(int eventId, DateTimeOffset time, IReadOnlyDictionary<string, object?> payload, Func<int, ProcessIdentity?> identify)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(identify);
        if (eventId is not (ProcessStart or ProcessStop) || ToInt(payload.GetValueOrDefault("ProcessID")) is not { } pid)
        {
            return null;
        }

        var image = payload.GetValueOrDefault("ImageName") as string;
        if (eventId == ProcessStart)
        {
            var identity = identify(pid) ?? new ProcessIdentity(null, null, null);
            _running[pid] = identity;
            return new ProcessRecord
            {
                Time = time.ToUniversalTime(),
                Host = host,
                Type = ProcessEventType.Start,
                Pid = pid,
                ParentPid = ToInt(payload.GetValueOrDefault("ParentProcessID")),
                Executable = identity.Win32Path ?? image ?? "?",
                User = identity.UserSid,
                AuditSession = identity.LogonId,
            };
        }

        _running.Remove(pid, out var started);
        return new ProcessRecord
        {
            Time = time.ToUniversalTime(),
            Host = host,
            Type = ProcessEventType.Exit,
            Pid = pid,
            Executable = started?.Win32Path ?? image,
            User = started?.UserSid,
            AuditSession = started?.LogonId,
            ExitCode = ToInt(payload.GetValueOrDefault("ExitCode")),
        };
    }

    private static int? ToInt(object? value) => value switch
    {
        int i => i,
        uint u => unchecked((int)u),
        long l when l is >= int.MinValue and <= uint.MaxValue => unchecked((int)l),
        ulong ul when ul <= uint.MaxValue => unchecked((int)(uint)ul),
        string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };
}
