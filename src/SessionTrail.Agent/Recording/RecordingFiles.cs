using System.Text;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// Private files of the recorder: folders 0700 and files 0600 (owned by the agent, root) — 2750/0640 when the
/// administrator named a group (<see cref="DataAccess.Current"/>) — so the session's user can neither read nor
/// alter a recording. On Windows the data directory's ACL applies.
/// </summary>
public static class RecordingFiles
{
    /// <summary>Creates the folder (and parents) and sets it to the data's folder mode (0700).</summary>
    public static void CreatePrivateDirectory(string path)
    {
        var access = DataAccess.Current;
        access.CreateDirectory(path);
        if (!HostOs.IsWindows && File.GetUnixFileMode(path) != access.DirectoryMode)
        {
            File.SetUnixFileMode(path, access.DirectoryMode);
        }
    }

    /// <summary>Sets a file to the data's file mode, 0600 (no-op on Windows); a file that vanished meanwhile is ignored.</summary>
    public static void MakePrivate(string path)
    {
        if (HostOs.IsWindows)
        {
            return;
        }

        try
        {
            var mode = DataAccess.Current.FileMode;
            if (File.GetUnixFileMode(path) != mode)
            {
                File.SetUnixFileMode(path, mode);
            }
        }
        catch (FileNotFoundException)
        {
        }
    }

    /// <summary>Atomic replace (temp, fsync, rename) of a private file.</summary>
    public static void WritePrivateAtomically(string path, ReadOnlySpan<byte> content)
    {
        AtomicFile.WriteAllBytes(path, content);
        MakePrivate(path);
    }

    public static void WritePrivateAtomically(string path, string content) => WritePrivateAtomically(path, Encoding.UTF8.GetBytes(content));
}
