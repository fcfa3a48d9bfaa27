using System.Globalization;
using SessionTrail.Core.Formats;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>NdjsonWriter.FormatTime writes digits itself (reports format one or two times per row); it must write what the .NET format does.</summary>
public sealed class FormatTimeTests
{
    [Fact]
    public void ItWritesWhatTheDotNetFormatWritesForAnyTime()
    {
        var random = new Random(7);
        var times = new List<DateTimeOffset>
        {
            DateTimeOffset.MinValue,
            DateTimeOffset.MaxValue,
            DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch.AddMilliseconds(-1),
            new(2026, 12, 31, 23, 59, 59, 999, TimeSpan.Zero),
            new(2028, 2, 29, 0, 0, 0, TimeSpan.Zero),
            new(2026, 11, 1, 8, 0, 0, 5, TimeSpan.FromHours(9)), // not UTC: written as UTC
        };
        for (var i = 0; i < 100_000; i++)
        {
            times.Add(new DateTimeOffset(random.NextInt64(DateTimeOffset.MinValue.Ticks, DateTimeOffset.MaxValue.Ticks), TimeSpan.Zero));
        }

        foreach (var time in times)
        {
            Assert.Equal(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), NdjsonWriter.FormatTime(time));
        }
    }
}
