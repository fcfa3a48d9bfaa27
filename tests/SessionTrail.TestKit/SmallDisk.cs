using Xunit;
using System.Diagnostics;

namespace SessionTrail.TestKit;

/// <summary>
/// A real tmpfs of a few MiB mounted on a temp folder, which a test fills to the last byte and frees again:
/// the disk-full paths run against the kernel's own ENOSPC, not a fake. Needs root (mount); unmounted on dispose.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private readonly List<string> fillers = [];
    private readonly bool ownFolder;

    private SmallDisk(string path, bool ownFolder)
    {
        Path = path;
        this.ownFolder = ownFolder;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Bytes still free on it.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> on the existing folder <paramref name="at"/>, or on a new temp folder.</summary>
    public static SmallDisk Mount(long bytes, string? at = null)
    {
        var path = at ?? Directory.CreateTempSubdirectory("st-small-disk-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={bytes},mode=0755", "tmpfs", path);
        return new SmallDisk(path, ownFolder: at is null);
    }

    /// <summary>Writes filler files until the kernel answers ENOSPC: afterwards not one byte is free.</summary>
    public void Fill()
    {
        var chunk = new byte[64 * 1024];
        for (var n = 0; n < 100; n++)
        {
            var filler = System.IO.Path.Combine(Path, $"filler-{n}");
            fillers.Add(filler);
            try
            {
                using var file = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
                while (true)
                {
                    file.Write(chunk, 0, n == 0 ? chunk.Length : 1);
                }
            }
            catch (IOException e) when (e.HResult == 28)
            {
                if (FreeBytes == 0)
                {
                    return;
                }
            }
        }

        throw new InvalidOperationException($"{Path} still has {FreeBytes} bytes free after 100 filler files");
    }

    /// <summary>Deletes what <see cref="Fill"/> wrote.</summary>
    public void Free()
    {
        foreach (var filler in fillers)
        {
            File.Delete(filler);
        }

        fillers.Clear();
    }

    /// <summary>Every file under the disk but the fillers, relative, with its size.</summary>
    public SortedDictionary<string, long> Files() => new(
        Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
            .Where(f => !fillers.Contains(f))
            .ToDictionary(f => System.IO.Path.GetRelativePath(Path, f), f => new FileInfo(f).Length),
        StringComparer.Ordinal);

    public void Dispose()
    {
        Run("umount", "-l", Path);
        if (ownFolder)
        {
            Directory.Delete(Path);
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error}");
        }
    }
}

/// <summary>A test that mounts a <see cref="SmallDisk"/>: skipped, with the reason, when not root.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SmallDiskFactAttribute : FactAttribute
{
    public SmallDiskFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux (a tmpfs holds the server's data directory to fill it)";
        }
        else if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root to mount a small tmpfs (mount -t tmpfs -o size=…); run ./run-tests as root";
        }
    }
}
