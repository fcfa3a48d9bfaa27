using System.Collections.Concurrent;

namespace SessionTrail.Agent.Sessions;

/// <summary>
/// The sessions the agent knows now, shared by the session file source (explicit session), the
/// attribution pipe (audit and host sessions it has announced) and the audit-session reaper.
/// </summary>
public sealed class SessionTracker
{
    private readonly ConcurrentDictionary<long, AuditSession> _audit = new();
    private readonly ConcurrentDictionary<string, bool> _hosts = new(StringComparer.Ordinal);
    private volatile CurrentSession? _explicit;

    /// <summary>The explicit session while it is active (set from DIR/agent/session.json), else null.</summary>
    public CurrentSession? Explicit
    {
        get => _explicit;
        set => _explicit = value is { IsActive: true } ? value : null;
    }

    /// <summary>True the first time this audit session is seen (the caller announces its start).</summary>
    public bool TryAddAuditSession(long auditSession, string sessionId, string host) =>
        _audit.TryAdd(auditSession, new AuditSession(auditSession, sessionId, host));

    public bool TryRemoveAuditSession(long auditSession) => _audit.TryRemove(auditSession, out _);

    public IReadOnlyList<AuditSession> AuditSessions => [.. _audit.Values];

    /// <summary>True the first time the per-host session of <paramref name="host"/> is used.</summary>
    public bool TryStartHostSession(string host) => _hosts.TryAdd(host, true);
}

/// <summary>A Linux audit (login) session the agent has announced.</summary>
public sealed record AuditSession(long AuditId, string SessionId, string Host);
