using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Records;

/// <summary>The run-pairing rule on small hand-made histories (index pairs into the given arrival order).</summary>
public class ProcessRunsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private static ProcessRecord Start(int minute, int pid = 7, string host = "h") =>
        new() { Type = ProcessEventType.Start, Time = T0.AddMinutes(minute), Pid = pid, Host = host };

    private static ProcessRecord Exit(int minute, int pid = 7, string host = "h") =>
        new() { Type = ProcessEventType.Exit, Time = T0.AddMinutes(minute), Pid = pid, Host = host };

    /// <summary>Every (start, exit) index pair, checked both ways.</summary>
    private static List<(int Start, int Exit)> Pairs(params ProcessRecord[] events)
    {
        var pairs = ProcessRuns.Pair(events);
        var found = new List<(int, int)>();
        for (var i = 0; i < events.Length; i++)
        {
            if (pairs.TryGetExit(i, out var exit))
            {
                Assert.True(pairs.TryGetStart(exit, out var back) && back == i);
                found.Add((i, exit));
            }
        }

        return found;
    }

    [Fact]
    public void AnExitArrivingBeforeItsStartStillPairs() =>
        Assert.Equal([(1, 0)], Pairs(Exit(5), Start(1)));

    [Fact]
    public void AReusedPidStartsANewRunAndTheOlderRunKeepsOnlyAnExitBeforeIt() =>
        Assert.Equal([(1, 2)], Pairs(Start(1), Start(3), Exit(4)));

    [Fact]
    public void AStartOwnsTheFirstExitAndARepeatedExitIsNobodys() =>
        Assert.Equal([(0, 2)], Pairs(Start(1), Exit(6), Exit(4)));

    [Fact]
    public void AnExitAtTheTimeOfANewStartBelongsToTheNewStart() =>
        Assert.Equal([(1, 2)], Pairs(Start(1), Start(3), Exit(3)));

    [Fact]
    public void AnExitBeforeEveryStartAndOtherPidsOrHostsAreNotPaired() =>
        Assert.Empty(Pairs(Exit(0), Start(1), Exit(2, pid: 8), Exit(2, host: "other")));

    [Fact]
    public void ARunWithoutAnExitEndsAtItsSessionsEndUnlessThatIsBeforeIt()
    {
        Assert.Equal(T0.AddMinutes(2), ProcessRuns.End(T0, T0.AddMinutes(2), T0.AddMinutes(9)));
        Assert.Equal(T0.AddMinutes(9), ProcessRuns.End(T0, null, T0.AddMinutes(9)));
        Assert.Equal(T0, ProcessRuns.End(T0, null, T0));
        Assert.Null(ProcessRuns.End(T0, null, T0.AddMinutes(-1)));
        Assert.Null(ProcessRuns.End(T0, null, null));
    }
}
