using System.Globalization;
using System.Runtime.InteropServices;

namespace SessionTrail.Core;

/// <summary>
/// Who may read what SessionTrail keeps in a data directory: the owner only (folders 0700, files 0600), or
/// the owner and one group the administrator names (folders 2750 — setgid, so that whatever is created in
/// them gets the group — files 0640). Secrets (<see cref="DataDirectory.Secrets"/>: the recording signing
/// key, <c>up</c>'s agent token) stay 0700/0600 either way: the group may read the data, not act as the server or its agent.
///
/// A command that writes data calls <see cref="UseInThisProcess"/> first: the process umask becomes 077
/// (027 with a group), so every file and folder that it or a child (ffmpeg) creates is private whatever
/// umask it was started with — SQLite's database, -wal, -shm and -journal included (SQLite gives those
/// the database file's mode) — and <see cref="Current"/> answers the modes that the code creating files
/// also sets explicitly (so the library is private in tests and other hosts too). <see cref="Tighten"/> brings
/// an existing tree (an older version, another umask, another group) to the same modes.
///
/// Windows has no umask and no POSIX modes: every member is a no-op there. The data folder's ACL applies —
/// deploy/appstream/install.ps1 sets SYSTEM and Administrators only; `up` on Windows inherits %ProgramData%'s.
/// </summary>
public sealed partial class DataAccess
{
    /// <summary>0700: owner only.</summary>
    public const UnixFileMode OwnerDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>0600: owner only.</summary>
    public const UnixFileMode OwnerFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode GroupDirectoryMode = OwnerDirectoryMode | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.SetGroup;
    private const UnixFileMode GroupFileMode = OwnerFileMode | UnixFileMode.GroupRead;
    private const uint TypeMask = 0xF000;
    private const uint TypeDirectory = 0x4000;
    private const uint TypeFile = 0x8000;

    private DataAccess(string? group, int groupId)
    {
        Group = group;
        GroupId = groupId;
    }

    /// <summary>Folders 0700, files 0600.</summary>
    public static DataAccess OwnerOnly { get; } = new(null, -1);

    /// <summary>The access this process creates files with (set by <see cref="UseInThisProcess"/>; <see cref="OwnerOnly"/> until then).</summary>
    public static DataAccess Current { get; private set; } = OwnerOnly;

    /// <summary>The group that may read, or null for the owner only.</summary>
    public string? Group { get; }

    /// <summary>The group's id, -1 for the owner only.</summary>
    public int GroupId { get; }

    /// <summary>0700, or 2750 with a group.</summary>
    public UnixFileMode DirectoryMode => Group is null ? OwnerDirectoryMode : GroupDirectoryMode;

    /// <summary>0600, or 0640 with a group.</summary>
    public UnixFileMode FileMode => Group is null ? OwnerFileMode : GroupFileMode;

    /// <summary>How the modes read in a log line: "owner only (0700/0600)" or "owner and group NAME (2750/0640)".</summary>
    public string Description => Group is null
        ? "owner only (0700/0600)"
        : $"owner and group {Group} (2750/0640)";

    /// <summary>
    /// The owner and group <paramref name="group"/> (a name, or a numeric id). Throws <see cref="ArgumentException"/>
    /// naming the group when this machine has no such group.
    /// </summary>
    public static DataAccess ForGroup(string group)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(group);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("a data group is for Linux (POSIX modes); on Windows the data folder's ACL decides who may read it.");
        }

        if (int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return new DataAccess(GroupName(id) ?? group, id);
        }

        return LookUpGroup(group) is { } gid
            ? new DataAccess(group, gid)
            : throw new ArgumentException($"no group '{group}' on this machine (see /etc/group; create it with groupadd, or give a numeric id).", nameof(group));
    }

    /// <summary>
    /// The access an existing data directory was set up with: its group when the folder is setgid (as
    /// <see cref="Tighten"/> leaves it for a group), else the owner only — also when it does not exist yet.
    /// Commands that only add to a data directory (session, token, user, import) follow it.
    /// </summary>
    public static DataAccess Of(string dataDir)
    {
        if (OperatingSystem.IsWindows() || !TryStat(Resolve(dataDir), out var stat) || (stat.Mode & TypeMask) != TypeDirectory
            || ((UnixFileMode)(stat.Mode & 0xFFF) & UnixFileMode.SetGroup) == 0)
        {
            return OwnerOnly;
        }

        return new DataAccess(GroupName((int)stat.Gid) ?? ((int)stat.Gid).ToString(CultureInfo.InvariantCulture), (int)stat.Gid);
    }

    /// <summary>
    /// Sets this process's umask (077, or 027 with a group) and <see cref="Current"/>. Call once, at the start of
    /// a command that writes into a data directory, before it creates anything.
    /// </summary>
    public void UseInThisProcess()
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = umask(Group is null ? 0b000_111_111 : 0b000_010_111);
        }

        Current = this;
    }

    /// <summary>Creates the folder and any missing parents with <see cref="DirectoryMode"/> (no-op for those that exist).</summary>
    public void CreateDirectory(string path) => CreateDirectories(path, DirectoryMode & ~UnixFileMode.SetGroup);

    /// <summary>Creates the folder (and parents) owner-only, 0700 even with a group: for secrets.</summary>
    public static void CreateSecretDirectory(string path)
    {
        CreateDirectories(path, OwnerDirectoryMode);
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != OwnerDirectoryMode)
        {
            File.SetUnixFileMode(path, OwnerDirectoryMode);
        }
    }

    /// <summary>Directory.CreateDirectory with a mode for every folder it makes (.NET gives the mode to the last one only).</summary>
    private static void CreateDirectories(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new Stack<string>();
        for (var dir = Path.GetFullPath(path); dir is not null && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
        {
            missing.Push(dir);
        }

        while (missing.TryPop(out var dir))
        {
            Directory.CreateDirectory(dir, mode);
        }
    }

    /// <summary>Options to open <paramref name="path"/>'s stream with: a file it creates gets <see cref="FileMode"/> (0600 for a <paramref name="secret"/>).</summary>
    public FileStreamOptions Options(FileMode mode, FileAccess access, FileShare share = FileShare.Read, int bufferSize = 4096, bool secret = false)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode != System.IO.FileMode.Open && mode != System.IO.FileMode.Truncate)
        {
            options.UnixCreateMode = secret ? OwnerFileMode : FileMode;
        }

        return options;
    }

    /// <summary>Sets a file this process has just created (through <paramref name="handle"/>) to <see cref="FileMode"/>.</summary>
    public void SetMode(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(handle, FileMode);
        }
    }

    /// <summary>
    /// Brings every folder and regular file under <paramref name="root"/> (itself included, through a symbolic link
    /// when it is one; links inside are neither followed nor changed) to <see cref="DirectoryMode"/> / <see cref="FileMode"/>
    /// and, with a group, to that group; under <paramref name="secrets"/> to 0700/0600. Returns what it changed, and what
    /// it was refused (an entry of another owner); an entry that vanishes meanwhile is skipped.
    /// With <paramref name="ownEntry"/>, only the entries directly in <paramref name="root"/> that it accepts are
    /// touched (and everything below them); when <paramref name="root"/> also holds others, the first is named in the
    /// result (<see cref="DataAccessChanges.Foreign"/>) and <paramref name="root"/>'s own mode and group are left alone:
    /// the pass never changes what is not SessionTrail's, whatever folder it is given.
    /// </summary>
    public DataAccessChanges Tighten(string root, IReadOnlyCollection<string> secrets, Func<string, bool>? ownEntry = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (OperatingSystem.IsWindows() || !Directory.Exists(root))
        {
            return DataAccessChanges.None;
        }

        var top = Resolve(root);
        var secretPaths = new HashSet<string>(secrets.Select(p => Path.Combine(top, Path.GetRelativePath(Path.GetFullPath(root), Path.GetFullPath(p)))), StringComparer.Ordinal);
        var changes = DataAccessChanges.None;
        var pending = new Stack<(string Path, bool Secret)>();
        if (ownEntry is not null && Directory.EnumerateFileSystemEntries(top).FirstOrDefault(e => !ownEntry(Path.GetFileName(e))) is { } foreign)
        {
            // Not a folder of SessionTrail's own: only its entries are made private, the folder keeps its mode.
            changes = changes with { Foreign = foreign };
            foreach (var own in Directory.EnumerateFileSystemEntries(top).Where(e => ownEntry(Path.GetFileName(e))))
            {
                pending.Push((own, secretPaths.Contains(own)));
            }
        }
        else
        {
            pending.Push((top, secretPaths.Contains(top)));
        }

        while (pending.TryPop(out var entry))
        {
            var (path, secret) = entry;
            if (!TryStat(path, out var stat) || (stat.Mode & TypeMask) is not (TypeDirectory or TypeFile))
            {
                continue;
            }

            var directory = (stat.Mode & TypeMask) == TypeDirectory;
            var wanted = secret ? (directory ? OwnerDirectoryMode : OwnerFileMode) : (directory ? DirectoryMode : FileMode);
            var before = (UnixFileMode)(stat.Mode & 0xFFF);
            try
            {
                var regroup = GroupId >= 0 && stat.Gid != (uint)GroupId;

                // The group first: chown clears the setgid bit, the mode sets it again.
                if (regroup && lchown(path, -1, GroupId) != 0)
                {
                    throw Marshal.GetLastPInvokeError() == 2 ? new FileNotFoundException(path) : new UnauthorizedAccessException(path);
                }

                if (before != wanted || regroup)
                {
                    File.SetUnixFileMode(path, wanted);
                    changes = changes.Changed(path, before, wanted);
                }

                if (directory)
                {
                    foreach (var child in Directory.EnumerateFileSystemEntries(path))
                    {
                        pending.Push((child, secret || secretPaths.Contains(child)));
                    }
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                // Deleted meanwhile (a queue segment acknowledged, a temp file renamed): nothing to tighten.
            }
            catch (UnauthorizedAccessException)
            {
                // Another owner's (root's, when the server runs as its own user): reported, not fatal.
                changes = changes.Refused(path, before);
            }
        }

        return changes;
    }

    /// <summary>The folder a data directory path names, through a symbolic link (systemd's DynamicUser state folders are links).</summary>
    private static string Resolve(string dir)
    {
        var full = Path.GetFullPath(dir);
        try
        {
            return new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full; // missing, or a link to nowhere: stat says so
        }
    }

    private static int? LookUpGroup(string name)
    {
        var entry = getgrnam(name);
        return entry == 0 ? null : Marshal.ReadInt32(entry, 2 * IntPtr.Size);
    }

    private static string? GroupName(int id)
    {
        var entry = getgrgid(id);
        return entry == 0 ? null : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(entry));
    }

    /// <summary>statx (one layout on every architecture): the mode (type and permission bits), uid and gid, without following a link.</summary>
    private static unsafe bool TryStat(string path, out (uint Mode, uint Uid, uint Gid) stat)
    {
        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const uint StatxBasicStats = 0x7FF;
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            stat = default;
            return false;
        }

        // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28.
        stat = (*(ushort*)(buffer + 28), *(uint*)(buffer + 20), *(uint*)(buffer + 24));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial int umask(int mask);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getgrnam(string name);

    [LibraryImport("libc", EntryPoint = "getgrgid")]
    private static partial nint getgrgid(int gid);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}

/// <summary>
/// What <see cref="DataAccess.Tighten"/> changed — how many entries, the first as an example — and what it could not
/// change (entries of another owner), likewise.
/// </summary>
public sealed record DataAccessChanges(int Count, string? Example, UnixFileMode ExampleBefore, UnixFileMode ExampleAfter, int RefusedCount, string? RefusedExample)
{
    /// <summary>An entry of the data directory that is not SessionTrail's (see <see cref="DataAccess.Tighten"/>), or null.</summary>
    public string? Foreign { get; init; }

    public static DataAccessChanges None { get; } = new(0, null, default, default, 0, null);

    /// <summary>The example as it reads in a log line: "PATH was 0644, now 0600".</summary>
    public string ExampleText => Example is null ? "" : $"{Example} was {Octal(ExampleBefore)}, now {Octal(ExampleAfter)}";

    internal DataAccessChanges Changed(string path, UnixFileMode before, UnixFileMode after) =>
        Count == 0 ? this with { Count = 1, Example = path, ExampleBefore = before, ExampleAfter = after } : this with { Count = Count + 1 };

    internal DataAccessChanges Refused(string path, UnixFileMode mode) =>
        RefusedCount == 0 ? this with { RefusedCount = 1, RefusedExample = $"{path} ({Octal(mode)})" } : this with { RefusedCount = RefusedCount + 1 };

    /// <summary>A mode as four octal digits (0644, 2750).</summary>
    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
