using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;
using static SessionTrail.Agent.Tests.Sinks.S3.S3TestRecords;

namespace SessionTrail.Agent.Tests.Sinks.S3;

public sealed class S3SpoolTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void LinesStayOpenUntilTheSessionEndsThenBecomeReadyInOrder()
    {
        var spool = new S3Spool(_dir.Path);
        var name = S3Spool.SessionName("s-1");
        var first = new[] { Line(Start("s-1")) };
        var second = new[] { Line(Process("s-1", ProcessEventType.Start, 5, SessionStart)), Line(End("s-1", SessionStart.AddMinutes(1))) };

        Assert.Equal(SpoolState.Open, spool.Append(name, first, complete: false));
        Assert.Equal(SpoolState.Open, spool.StateOf(name));
        Assert.Empty(spool.List(SpoolState.Ready));
        Assert.Equal(SpoolState.Ready, spool.Append(name, second, complete: true));

        Assert.Equal([name], spool.List(SpoolState.Ready));
        Assert.Empty(spool.List(SpoolState.Open));
        Assert.Equal(Concat([.. first, .. second]), spool.ReadReady(name));
    }

    [Fact]
    public void ASpoolReopenedFromDiskHasWhatWasAppended()
    {
        var name = S3Spool.SessionName("s-2");
        new S3Spool(_dir.Path).Append(name, [Line(Start("s-2")), Line(End("s-2", SessionStart))], complete: true);

        var reopened = new S3Spool(_dir.Path);

        Assert.Equal([name], reopened.List(SpoolState.Ready));
        Assert.Equal(2, S3ObjectFormats.Parse(reopened.ReadReady(name), out _).Count);
    }

    [Fact]
    public void AnUploadOnlyCountsWhenNothingWasAppendedDuringIt()
    {
        var spool = new S3Spool(_dir.Path);
        var name = S3Spool.SessionName("s-3");
        spool.Append(name, [Line(Start("s-3")), Line(End("s-3", SessionStart))], complete: true);
        var uploaded = spool.ReadReady(name)!;
        spool.Append(name, [Line(Process("s-3", ProcessEventType.Exit, 9, SessionStart))], complete: false); // arrives during the PUT

        Assert.False(spool.MarkUploaded(name, uploaded.Length, SessionStart));
        Assert.Equal(SpoolState.Ready, spool.StateOf(name));

        Assert.True(spool.MarkUploaded(name, spool.ReadReady(name)!.Length, SessionStart));
        Assert.Equal(SpoolState.Uploaded, spool.StateOf(name));
        Assert.Null(spool.ReadReady(name));
    }

    [Fact]
    public void AResentRecordOfAnUploadedObjectChangesNothingButANewOneUploadsItAgain()
    {
        var spool = new S3Spool(_dir.Path);
        var name = S3Spool.SessionName("s-4");
        var lines = new[] { Line(Start("s-4")), Line(End("s-4", SessionStart)) };
        spool.Append(name, lines, complete: true);
        spool.MarkUploaded(name, spool.ReadReady(name)!.Length, SessionStart);

        Assert.Equal(SpoolState.Uploaded, spool.Append(name, [lines[1]], complete: true)); // at-least-once resend
        Assert.Empty(spool.List(SpoolState.Ready));

        var late = Line(Process("s-4", ProcessEventType.Exit, 7, SessionStart));
        Assert.Equal(SpoolState.Ready, spool.Append(name, [lines[0], late], complete: false));
        var content = S3ObjectFormats.Parse(spool.ReadReady(name), out _);
        Assert.Equal(3, content.Count); // start, end, the late exit: the re-upload is complete
    }

    [Fact]
    public void UploadedFilesAreDeletedAfterTheRetentionOnly()
    {
        var spool = new S3Spool(_dir.Path);
        foreach (var (session, at) in new[] { ("old", SessionStart), ("new", SessionStart.AddHours(2)) })
        {
            var name = S3Spool.SessionName(session);
            spool.Append(name, [Line(End(session, at))], complete: true);
            spool.MarkUploaded(name, spool.ReadReady(name)!.Length, at);
        }

        Assert.Equal(1, spool.DeleteUploadedBefore(SessionStart.AddHours(1)));
        Assert.Null(spool.StateOf(S3Spool.SessionName("old")));
        Assert.Equal(SpoolState.Uploaded, spool.StateOf(S3Spool.SessionName("new")));
    }

    [Fact]
    public void DayFilesAreOpenUntilMarkedReady()
    {
        var spool = new S3Spool(_dir.Path);
        var name = S3Spool.DayName("host/1", new DateOnly(2026, 11, 22));
        spool.Append(name, [Line(Process(null, ProcessEventType.Start, 1, SessionStart))], complete: false);

        Assert.Equal(new DateOnly(2026, 11, 22), S3Spool.DayOf(name));
        Assert.Null(S3Spool.DayOf(S3Spool.SessionName("d_20261122_x")));
        Assert.True(spool.MarkReady(name));
        Assert.False(spool.MarkReady(name));
        Assert.Equal([name], spool.List(SpoolState.Ready));
    }

    [Theory]
    [InlineData("1b7e8a54-6e3b-4b4e-9d9e-5c1f6d1e2a3b", "1b7e8a54-6e3b-4b4e-9d9e-5c1f6d1e2a3b")]
    [InlineData("a_b", "a_5Fb")]
    [InlineData("../etc/passwd", "_2E._2Fetc_2Fpasswd")]
    [InlineData("sé ssion", "s_C3_A9_20ssion")]
    public void NamesAreFileNameSafeAndDistinct(string session, string escaped)
    {
        Assert.Equal(escaped, S3Spool.Escape(session));
        Assert.Equal("s_" + escaped, S3Spool.SessionName(session));
    }

    [Fact]
    public void VeryLongNamesAreShortenedWithAHashSoThatTheyStayDistinct()
    {
        var a = S3Spool.Escape(new string('a', 300));
        var b = S3Spool.Escape(new string('a', 299) + "b");
        Assert.True(a.Length < 200);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void ALineWithoutItsNewlineStillEndsALine()
    {
        var spool = new S3Spool(_dir.Path);
        var name = S3Spool.SessionName("nl");
        var line = Line(Start("nl"));
        spool.Append(name, [line[..^1], Line(End("nl", SessionStart))], complete: true);
        Assert.Equal(2, S3ObjectFormats.Parse(spool.ReadReady(name), out var skipped).Count);
        Assert.Equal(0, skipped);
    }
}
