using System.Globalization;
using SessionTrail.Agent.Pipes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>
/// Attributes Windows process records to sessions by logon id (<see cref="ProcessRecord.AuditSession"/>),
/// for multi-user hosts (RDS, Citrix) as well as AppStream: a user's logon maps to the AppStream session
/// in that user's registry environment (<c>AppStream_Session_ID</c>, the same id <c>sessiontrail session
/// start</c> uses) or, without one, to "{host}-logon{hex logon id}". The first record of a session emits
/// its start record with the AppStream fields. Only user SIDs (<c>S-1-5-21-*</c>) are attributed here;
/// other records (SYSTEM, services) are left to the agent's default attribution.
/// While a logon has no AppStream session id yet (AppStream writes the variables shortly after logon),
/// its environment is looked at again at most every <see cref="RecheckInterval"/> of record time; once
/// found, the logon keeps it.
/// </summary>
/// <param name="userEnvironment">SID → lookup of that user's environment variables, or null when the user's hive is not loaded.</param>
/// <param name="machineEnvironment">Lookup of machine environment variables.</param>
public sealed class WindowsLogonSessionPipe(Func<string, Func<string, string?>?> userEnvironment, Func<string, string?> machineEnvironment) : IRecordPipe, IEmittingPipe
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(string Host, long Logon), Logon> _logons = [];
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);
    private readonly EmittedRecords _emitted = new();

    public TrailRecord? Process(TrailRecord record)
    {
        if (record is not ProcessRecord { Session: null, AuditSession: { } logonId, User: { } sid } process
            || !sid.StartsWith("S-1-5-21-", StringComparison.OrdinalIgnoreCase))
        {
            return record;
        }

        var key = (process.Host, logonId);
        if (!_logons.TryGetValue(key, out var logon) || (!logon.FromAppStream && process.Time - logon.CheckedAt >= RecheckInterval))
        {
            logon = Resolve(process, logonId, sid);
            _logons[key] = logon;
        }

        if (_announced.Add(logon.SessionId))
        {
            _emitted.Add(logon.Start with { Time = process.Time });
        }

        return process with { Session = logon.SessionId };
    }

    public IReadOnlyList<TrailRecord> TakeEmitted() => _emitted.TakeAll();

    /// <summary>The fallback session id of a logon without AppStream variables.</summary>
    public static string LogonSessionId(string host, long logonId) =>
        string.Create(CultureInfo.InvariantCulture, $"{host}-logon{logonId:x}");

    private Logon Resolve(ProcessRecord process, long logonId, string sid)
    {
        var env = userEnvironment(sid);
        var context = AppStreamContext.Read(env ?? (_ => null), machineEnvironment);
        var id = context.Id ?? LogonSessionId(process.Host, logonId);
        var start = new SessionRecord
        {
            Type = SessionEventType.Start,
            Time = process.Time,
            Host = process.Host,
            Session = id,
            Fields = context.Fields with { User = context.Fields.User ?? sid },
        };
        return new Logon(id, context.Id is not null, process.Time, start);
    }

    private sealed record Logon(string SessionId, bool FromAppStream, DateTimeOffset CheckedAt, SessionRecord Start);
}
