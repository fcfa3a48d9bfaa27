using System.Runtime.CompilerServices;

namespace SessionTrail.TestKit;

/// <summary>
/// Where tests find files of this repository (the folder holding SessionTrail.slnx, above the test's output)
/// and, for optional extras, files beside it (a checkout's <c>../shared</c>). The one place tests look upwards.
/// </summary>
public static class Repository
{
    /// <summary>The repository's root folder.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the root (whether it exists is the caller's question).</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>A file under tests/data (e.g. "reports/records.ndjson", the small data set of the report and export approvals).</summary>
    public static string DataFile(string relative) => Path.Combine(Root, "tests", "data", relative);

    /// <summary>The first file or folder at <paramref name="relative"/> below a folder above the test's output; null when none.</summary>
    public static string? FindAbove(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FindRoot([CallerFilePath] string thisFile = "")
    {
        // The build output is below the repository; the source path is the fallback when the tests run elsewhere.
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(thisFile) ?? "" })
        {
            for (var dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "SessionTrail.slnx")))
                {
                    return dir;
                }
            }
        }

        throw new InvalidOperationException("SessionTrail.slnx not found above " + AppContext.BaseDirectory);
    }
}
