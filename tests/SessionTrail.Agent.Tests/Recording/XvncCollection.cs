namespace SessionTrail.Agent.Tests.Recording;

/// <summary>The recorder tests on Xvnc run ffmpeg at full tilt: they run alone, after the parallel tests, so timing tests elsewhere are not starved.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class XvncCollection
{
    public const string Name = "Xvnc + ffmpeg (alone)";
}
