namespace SessionTrail.Agent.Sessions;

/// <summary>Which login/audit sessions still have at least one live process.</summary>
public interface ILiveSessionProbe
{
    /// <summary>
    /// The audit session ids with a live process right now. Throws <see cref="IOException"/> when the
    /// platform cannot be asked; the caller then ends no session this round.
    /// </summary>
    IReadOnlySet<long> LiveSessions();
}
