namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// What the recorder asks before it starts (or continues) writing to the spool. <see cref="CanRecord"/> is
/// false while the spool is over <see cref="RecordingOptions.SpoolMaxBytes"/> although every uploaded segment's
/// video was already deleted (only not-yet-uploaded bytes are left, which are never deleted); it turns true
/// again once uploads brought the spool down to 90% of the cap. The recorder then pauses (closes its segment,
/// records a "gap" event) instead of filling the disk.
/// </summary>
public interface ISpoolBudget
{
    bool CanRecord { get; }
}
