using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Records;

/// <summary>A session record's field properties are its <see cref="SessionRecord.Fields"/>, one value passed on whole.</summary>
public class SessionFieldsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheFieldPropertiesReadAndSetTheFieldsValue()
    {
        var record = new SessionRecord { Type = SessionEventType.Start, Time = T0, Host = "h", Session = "s", User = "alice", Fleet = "f", ImageArn = "arn" };
        Assert.Equal(new SessionFields { User = "alice", Fleet = "f", ImageArn = "arn" }, record.Fields);

        var changed = record with { Fields = record.Fields with { Stack = "st" } };
        Assert.Equal(("alice", "st", "f"), (changed.User, changed.Stack, changed.Fleet));
        Assert.NotEqual(record, changed);
        Assert.Equal(record, changed with { Stack = null });
    }

    [Fact]
    public void AnAthenaSessionTakesTheRecordsFieldsWhole()
    {
        var fields = new SessionFields
        {
            User = "u", Stack = "st", Fleet = "f", AccessMode = "a", ReservationTime = "r", InstanceType = "i", Region = "re", ImageArn = "arn",
        };
        var record = new SessionRecord { Type = SessionEventType.End, Time = T0, Host = "h", Session = "s", Fields = fields };
        Assert.Equal(fields, AthenaSession.From(record, T0).Fields);
    }
}
