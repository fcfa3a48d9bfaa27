using Microsoft.Data.Sqlite;

namespace SessionTrail.Server;

/// <summary>
/// A write refused because the file system holding <see cref="Where"/> is full. The stores (the SQLite store,
/// the recordings on disk) turn such a failure into this exception once they have undone what the failed
/// write left (SQLite rolls the transaction back; a segment's <c>.part</c> goes back to what it held before),
/// so the state is the one before the request and the same request succeeds once there is room, without a
/// restart. The server answers it with 507 Insufficient Storage, <c>{"error":"disk full: …"}</c> and
/// <c>Retry-After</c> (<see cref="ServerApp"/>), whatever the endpoint.
/// </summary>
public sealed class DiskFullException(string where, Exception inner) : IOException($"disk full: {where}: {inner?.Message}", inner)
{
    /// <summary>SQLite's result code for "database or disk is full".</summary>
    public const int SqliteFull = 13;

    /// <summary>The file (or directory) whose write failed.</summary>
    public string Where { get; } = where;

    /// <summary>
    /// True when <paramref name="error"/> or an exception inside it says the disk is full. The one place that
    /// knows how that surfaces: on Linux .NET puts the raw errno in <see cref="Exception.HResult"/> of the
    /// <see cref="IOException"/> (ENOSPC 28, EDQUOT 122: a quota is a full disk for this user); on Windows
    /// ERROR_DISK_FULL (0x80070070) and ERROR_HANDLE_DISK_FULL (0x80070027); SQLite says SQLITE_FULL (13).
    /// </summary>
    public static bool IsDiskFull(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is DiskFullException or SqliteException { SqliteErrorCode: SqliteFull }
                || (e is IOException && e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027)))
            {
                return true;
            }
        }

        return false;
    }
}
