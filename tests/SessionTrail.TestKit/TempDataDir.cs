namespace SessionTrail.TestKit;

/// <summary>A data directory under /tmp, deleted on dispose.</summary>
public sealed class TempDataDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "st-test-" + Guid.NewGuid().ToString("N"));

    public TempDataDir() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
