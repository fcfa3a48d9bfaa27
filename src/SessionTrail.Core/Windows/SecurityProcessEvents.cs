using System.Globalization;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Windows;

/// <summary>What <see cref="SecurityProcessEvents.Map"/> made of one event: a record, a skip, or an error.</summary>
public sealed record SecurityProcessResult
{
    private SecurityProcessResult(ProcessRecord? record, string? skipped, string? error)
    {
        Record = record;
        Skipped = skipped;
        Error = error;
    }

    /// <summary>The process start or exit.</summary>
    public ProcessRecord? Record { get; }

    /// <summary>Why the event is not a process event (another provider or event id). Not an error.</summary>
    public string? Skipped { get; }

    /// <summary>Why a 4688/4689 could not be mapped (a field missing or not a number), naming the field.</summary>
    public string? Error { get; }

    /// <summary>True when the user came from <c>TargetUserSid</c> rather than <c>SubjectUserSid</c>.</summary>
    public bool UsedTargetUser { get; private init; }

    public static SecurityProcessResult Ok(ProcessRecord record, bool usedTargetUser) => new(record, null, null) { UsedTargetUser = usedTargetUser };

    public static SecurityProcessResult Skip(string reason) => new(null, reason, null);

    public static SecurityProcessResult Fail(string reason) => new(null, null, reason);
}

/// <summary>
/// Maps Security-Auditing 4688 (a process was created) and 4689 (a process has exited) to
/// <see cref="ProcessRecord"/>. The one mapping used by the live Windows source and by <c>import</c>.
/// <list type="bullet">
/// <item>Fields are read by name (4688 has three field sets across Windows versions).</item>
/// <item>Process ids are hex whatever the padding (<c>0x3a8</c>, <c>0x00000ea0</c>, <c>0x0000000000000ef4</c>);
/// plain decimal (as PowerShell's <c>Properties[i].Value</c> prints) is accepted too.</item>
/// <item>4688: Pid = NewProcessId, ParentPid = ProcessId, Executable = NewProcessName, CommandLine
/// (null when empty, i.e. the command-line policy is off). 4689: Pid = ProcessId, Executable = ProcessName,
/// ExitCode = Status (a 32-bit NTSTATUS/exit code; values above 0x7fffffff come out negative).</item>
/// <item>User = <c>TargetUserSid</c> when present and not <c>S-1-0-0</c> (the real user of an elevated
/// or brokered launch), else <c>SubjectUserSid</c>; <see cref="ProcessRecord.AuditSession"/> = the logon id
/// of the same side (<c>TargetLogonId</c> or <c>SubjectLogonId</c>, hex), used to attribute processes to
/// sessions on multi-user hosts.</item>
/// <item>Host = Computer, Time = TimeCreated.</item>
/// <item><see cref="TrailRecord.Id"/> = <c>win:{Computer}:{Channel}:{EventRecordID}</c> — deterministic, so the
/// same event from the live source and from an import of an export of that log is stored once on the
/// server. Without an EventRecordID it is <c>win:{Computer}:{Channel}:t{ticks}:{EventID}:{pid}</c>.</item>
/// </list>
/// </summary>
public static class SecurityProcessEvents
{
    public const string Provider = "Microsoft-Windows-Security-Auditing";
    public const int ProcessCreated = 4688;
    public const int ProcessExited = 4689;

    /// <summary>The SID of "nobody": a 4688 whose new process runs as the subject has this as TargetUserSid.</summary>
    public const string NullSid = "S-1-0-0";

    public static SecurityProcessResult Map(WindowsEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!string.Equals(e.Provider, Provider, StringComparison.OrdinalIgnoreCase))
        {
            return SecurityProcessResult.Skip($"provider {e.Provider} event {e.EventId} is not a process event");
        }

        return e.EventId switch
        {
            ProcessCreated => MapStart(e),
            ProcessExited => MapExit(e),
            _ => SecurityProcessResult.Skip($"event {e.EventId} is not 4688/4689"),
        };
    }

    /// <summary>Parses a Windows id: <c>0x</c>-prefixed hex of any padding, or plain decimal.</summary>
    public static bool TryParseId(string? text, out ulong value)
    {
        value = 0;
        if (text is null)
        {
            return false;
        }

        var s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return s.Length > 2 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        return s.Length > 0 && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The user and logon id a process event is attributed to: Target when it names someone, else Subject.</summary>
    public static (string? Sid, string? LogonId, bool UsedTarget) ChooseUser(IReadOnlyDictionary<string, string> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.TryGetValue("TargetUserSid", out var target) && IsSid(target) && target.Trim() != NullSid)
        {
            return (target.Trim(), data.GetValueOrDefault("TargetLogonId"), true);
        }

        var subject = data.GetValueOrDefault("SubjectUserSid");
        return (IsSid(subject) ? subject!.Trim() : null, data.GetValueOrDefault("SubjectLogonId"), false);
    }

    private static bool IsSid(string? value) => value is not null && value.Trim().StartsWith("S-", StringComparison.OrdinalIgnoreCase);

    private static SecurityProcessResult MapStart(WindowsEvent e)
    {
        if (!TryPid(e, "NewProcessId", out var pid, out var error) || !TryPid(e, "ProcessId", out var parent, out error))
        {
            return SecurityProcessResult.Fail(error!);
        }

        var exe = e.Data.GetValueOrDefault("NewProcessName");
        if (string.IsNullOrWhiteSpace(exe))
        {
            return SecurityProcessResult.Fail("4688 has no NewProcessName");
        }

        return Build(e, ProcessEventType.Start, pid, parent, exe, e.Data.GetValueOrDefault("CommandLine"), null);
    }

    private static SecurityProcessResult MapExit(WindowsEvent e)
    {
        if (!TryPid(e, "ProcessId", out var pid, out var error))
        {
            return SecurityProcessResult.Fail(error!);
        }

        int? exitCode = null;
        if (e.Data.TryGetValue("Status", out var status))
        {
            if (!TryParseId(status, out var code) || code > uint.MaxValue)
            {
                return SecurityProcessResult.Fail($"4689 Status '{status}' is not a 32-bit hex or decimal number");
            }

            exitCode = unchecked((int)(uint)code);
        }

        var exe = e.Data.GetValueOrDefault("ProcessName");
        return Build(e, ProcessEventType.Exit, pid, null, string.IsNullOrWhiteSpace(exe) ? null : exe, null, exitCode);
    }

    private static SecurityProcessResult Build(WindowsEvent e, ProcessEventType type, int pid, int? parent, string? exe, string? commandLine, int? exitCode)
    {
        var (sid, logonText, usedTarget) = ChooseUser(e.Data);
        long? logonId = null;
        if (logonText is not null)
        {
            if (!TryParseId(logonText, out var logon))
            {
                return SecurityProcessResult.Fail($"{e.EventId} {(usedTarget ? "TargetLogonId" : "SubjectLogonId")} '{logonText}' is not a hex or decimal number");
            }

            logonId = unchecked((long)logon);
        }

        var record = new ProcessRecord
        {
            Id = RecordId(e, pid),
            Time = e.TimeCreated,
            Host = e.Computer,
            Type = type,
            Pid = pid,
            ParentPid = parent,
            Executable = exe,
            CommandLine = string.IsNullOrEmpty(commandLine) ? null : commandLine,
            User = sid,
            AuditSession = logonId,
            ExitCode = exitCode,
        };
        return SecurityProcessResult.Ok(record, usedTarget);
    }

    /// <summary>The deterministic record id of a process event (see the type's summary).</summary>
    public static string RecordId(WindowsEvent e, int pid)
    {
        ArgumentNullException.ThrowIfNull(e);
        var channel = e.Channel ?? "Security";
        return e.RecordId is { } id
            ? $"win:{e.Computer}:{channel}:{id.ToString(CultureInfo.InvariantCulture)}"
            : $"win:{e.Computer}:{channel}:t{e.TimeCreated.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{e.EventId.ToString(CultureInfo.InvariantCulture)}:{pid.ToString(CultureInfo.InvariantCulture)}";
    }

    private static bool TryPid(WindowsEvent e, string field, out int pid, out string? error)
    {
        pid = 0;
        error = null;
        if (!e.Data.TryGetValue(field, out var text))
        {
            error = $"{e.EventId} has no {field}";
            return false;
        }

        if (!TryParseId(text, out var value) || value > int.MaxValue)
        {
            error = $"{e.EventId} {field} '{(text.Length > 40 ? text[..40] + "..." : text)}' is not a process id (hex 0x... or decimal)";
            return false;
        }

        pid = (int)value;
        return true;
    }
}
