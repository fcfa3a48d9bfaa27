using System.Text;
using SessionTrail.Core;

namespace SessionTrail.Agent.Storage;

/// <summary>
/// Replaces a file atomically: write a temp file beside it, flush it to disk, rename over. The file (and a
/// folder made for it) gets <see cref="DataAccess.Current"/>'s mode from the start: 0600 unless a group may read.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// After a crash the file holds either the old or the new content, never a mix.
    /// Throws <see cref="IOException"/> / <see cref="UnauthorizedAccessException"/> on failure (the old content stays).
    /// </summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        DataAccess.Current.CreateDirectory(directory);
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, DataAccess.Current.Options(FileMode.CreateNew, FileAccess.Write, FileShare.None, 1)))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
            }

            throw;
        }
    }

    public static void WriteAllText(string path, string content) => WriteAllBytes(path, Encoding.UTF8.GetBytes(content));
}
