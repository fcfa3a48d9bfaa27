using System.Globalization;
using SessionTrail.Agent.Pipes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sessions;

/// <summary>
/// Sets <see cref="TrailRecord.Session"/> on process records that have none: the explicit session when
/// one is active; else the Linux audit session "{host}-ses{id}"; else the per-host session "{host}".
/// The first record of an audit or host session also emits that session's start record.
/// Log records without a session get the explicit session, else the per-host session, so they link to it.
/// </summary>
public sealed class SessionAttributionPipe(SessionTracker tracker, Func<long, string?> userName) : IRecordPipe, IEmittingPipe
{
    /// <summary>The audit session id of a process outside any login session ((u32)-1).</summary>
    public const long UnsetAuditSession = uint.MaxValue;

    private readonly EmittedRecords _emitted = new();

    public TrailRecord? Process(TrailRecord record)
    {
        if (record is LogRecord { Session: null } log)
        {
            return log with { Session = tracker.Explicit?.Id ?? HostSession(log) };
        }

        if (record is not ProcessRecord process || process.Session is not null)
        {
            return record;
        }

        if (tracker.Explicit is { } current)
        {
            return process with { Session = current.Id };
        }

        if (process.AuditSession is { } ses and >= 0 and < UnsetAuditSession)
        {
            var id = AuditSessionId(process.Host, ses);
            if (tracker.TryAddAuditSession(ses, id, process.Host))
            {
                var user = (process.LoginUid is { } loginUid and >= 0 and < UnsetAuditSession ? userName(loginUid) : null) ?? process.User;
                _emitted.Add(new SessionRecord { Type = SessionEventType.Start, Time = process.Time, Host = process.Host, Session = id, User = user });
            }

            return process with { Session = id };
        }

        return process with { Session = HostSession(process) };
    }

    private string HostSession(TrailRecord record)
    {
        if (tracker.TryStartHostSession(record.Host))
        {
            _emitted.Add(new SessionRecord { Type = SessionEventType.Start, Time = record.Time, Host = record.Host, Session = record.Host });
        }

        return record.Host;
    }

    public IReadOnlyList<TrailRecord> TakeEmitted() => _emitted.TakeAll();

    public static string AuditSessionId(string host, long auditSession) =>
        string.Create(CultureInfo.InvariantCulture, $"{host}-ses{auditSession}");
}
