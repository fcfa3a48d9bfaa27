using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Queue;

public sealed class RecordIdGeneratorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void IdsAreAgentIdColonSequenceAndTheAgentIdIsKept()
    {
        var first = RecordIdGenerator.Open(_dir.Path);
        var id = first.Next();
        Assert.Equal(first.AgentId + ":1", id);
        Assert.Equal(first.AgentId, RecordIdGenerator.Open(_dir.Path).AgentId);
        Assert.Equal(first.AgentId, File.ReadAllText(Path.Combine(_dir.Path, "agent-id")).Trim());
    }

    [Fact]
    public void IdsNeverRepeatAcrossRestartsEvenWithoutACleanStop()
    {
        var seen = new HashSet<string>();
        for (var run = 0; run < 5; run++)
        {
            var ids = RecordIdGenerator.Open(_dir.Path, blockSize: 7);
            for (var i = 0; i < 20 + run; i++)
            {
                Assert.True(seen.Add(ids.Next()));
            }

            if (run % 2 == 0)
            {
                ids.Persist(); // clean stop; odd runs simulate kill -9 (no persist)
            }
        }
    }

    [Fact]
    public void ACleanStopSkipsNoNumbers()
    {
        var ids = RecordIdGenerator.Open(_dir.Path);
        ids.Next();
        ids.Next();
        ids.Persist();
        Assert.EndsWith(":3", RecordIdGenerator.Open(_dir.Path).Next());
    }

    [Fact]
    public void ACorruptSequenceFileIsAnErrorNotAReset()
    {
        RecordIdGenerator.Open(_dir.Path).Next();
        File.WriteAllText(Path.Combine(_dir.Path, "sequence"), "garbage");
        Assert.Throws<InvalidDataException>(() => RecordIdGenerator.Open(_dir.Path));
    }
}
