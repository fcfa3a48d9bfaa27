using Microsoft.Data.Sqlite;
using SessionTrail.Core.Records;

namespace SessionTrail.Server.Store;

/// <summary>
/// The columns that hold a session's <see cref="SessionFields"/> in session_events and sessions, in this
/// order, with the parameters that bind them and the reading of them back.
/// </summary>
internal static class SessionColumns
{
    /// <summary>The column names, comma-separated.</summary>
    public const string Names = "user, stack, fleet, access_mode, reservation_time, instance_type, region, image_arn";

    /// <summary>The statement parameters of the columns, in order.</summary>
    public static readonly string[] Parameters = ["$user", "$stack", "$fleet", "$accessMode", "$reservationTime", "$instanceType", "$region", "$imageArn"];

    /// <summary>The values of <paramref name="fields"/>, in column order.</summary>
    public static object?[] Values(SessionFields fields) =>
        [fields.User, fields.Stack, fields.Fleet, fields.AccessMode, fields.ReservationTime, fields.InstanceType, fields.Region, fields.ImageArn];

    /// <summary>The fields of the row at <paramref name="reader"/>, whose columns <paramref name="first"/> onward are <see cref="Names"/>.</summary>
    public static SessionFields Read(SqliteDataReader reader, int first)
    {
        string? Text(int i) => reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return new SessionFields
        {
            User = Text(0),
            Stack = Text(1),
            Fleet = Text(2),
            AccessMode = Text(3),
            ReservationTime = Text(4),
            InstanceType = Text(5),
            Region = Text(6),
            ImageArn = Text(7),
        };
    }
}
