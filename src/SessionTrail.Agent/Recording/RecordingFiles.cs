using System.Text;
using SessionTrail.Agent.Storage;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// Private files of the recorder: folders 0700 and files 0600 (owned by the agent, root), so the session's
/// user can neither read nor alter a recording. On Windows the data directory's ACL applies.
/// </summary>
public static class RecordingFiles
{
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder (and parents) and sets it to 0700.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, FolderMode);
        if (File.GetUnixFileMode(path) != FolderMode)
        {
            File.SetUnixFileMode(path, FolderMode);
        }
    }

    /// <summary>Sets a file to 0600 (no-op on Windows); a file that vanished meanwhile is ignored.</summary>
    public static void MakePrivate(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            if (File.GetUnixFileMode(path) != FileMode)
            {
                File.SetUnixFileMode(path, FileMode);
            }
        }
        catch (FileNotFoundException)
        {
        }
    }

    /// <summary>Atomic replace (temp, fsync, rename) of a 0600 file.</summary>
    public static void WritePrivateAtomically(string path, ReadOnlySpan<byte> content)
    {
        AtomicFile.WriteAllBytes(path, content);
        MakePrivate(path);
    }

    public static void WritePrivateAtomically(string path, string content) => WritePrivateAtomically(path, Encoding.UTF8.GetBytes(content));
}
