using SessionTrail.Agent.Platform.Windows;

namespace SessionTrail.Agent.Tests.Platform.Windows;

/// <summary>`session start` as SYSTEM (AppStream session scripts): user variables come from the streaming user's hive.</summary>
public sealed class AppStreamSessionStartTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void UserVariablesComeFromTheHiveWithAnAppStreamSessionAndMachineVariablesFromTheMachine()
    {
        var admin = ("S-1-5-21-1-500", Env(("TEMP", "x")));
        var streaming = ("S-1-5-21-1-1001", Env(("AppStream_Session_ID", "sess-42"), ("AppStream_UserName", "alice"), ("AppStream_Stack_Name", "stack-a")));
        var lookup = AppStreamContext.ForSessionStart(Env(), [admin, streaming], Env(("AppStream_Resource_Name", "fleet-a"), ("AppStream_UserName", "machine-wrong")));

        Assert.Equal(("sess-42", "alice", "stack-a", "fleet-a"), (lookup("AppStream_Session_ID"), lookup("AppStream_UserName"), lookup("AppStream_Stack_Name"), lookup("AppStream_Resource_Name")));
    }

    [Fact]
    public void TheCommandsOwnEnvironmentWinsAndWithoutAStreamingUserUserVariablesAreUnknown()
    {
        var lookup = AppStreamContext.ForSessionStart(Env(("AppStream_UserName", "from-env")), [("S-1-5-21-9", Env(("TEMP", "x")))], Env());
        Assert.Equal("from-env", lookup("AppStream_UserName"));
        Assert.Null(lookup("AppStream_Session_ID"));
    }

    [Fact]
    public void WithTwoStreamingHivesTheLatestReservationWins()
    {
        var older = ("S-1-5-21-1-1002", Env(("AppStream_Session_ID", "old"), ("AppStream_Session_Reservation_DateTime", "2026-11-30T08:00:00Z")));
        var newer = ("S-1-5-21-1-1001", Env(("AppStream_Session_ID", "new"), ("AppStream_Session_Reservation_DateTime", "2026-11-30T09:00:00Z")));
        Assert.Equal("new", AppStreamContext.ForSessionStart(Env(), [older, newer], Env())("AppStream_Session_ID"));
        Assert.Equal("new", AppStreamContext.ForSessionStart(Env(), [newer, older], Env())("AppStream_Session_ID"));
    }
}
