using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Core.Windows;

namespace SessionTrail.Core.Tests.Windows;

/// <summary>
/// The check the XML and .evtx fuzz loops run on every event they still read from damaged input: the
/// <see cref="LogRecord"/> mapping never throws, and its NDJSON line reads back as the same record.
/// </summary>
internal static class WindowsEventLogRecordsFuzz
{
    public static void MapsAndRoundTrips(WindowsEvent e)
    {
        var record = WindowsEventLogRecords.ToLogRecord(e, "fuzz", "log-" + WindowsEventLogRecords.Position(e, e.Channel ?? "Log"), "Log");
        Assert.False(string.IsNullOrEmpty(record.Channel));
        Assert.Equal(e.Data.Count, record.Fields!.Keys.Count(k => e.Data.ContainsKey(k)));
        Assert.StartsWith(e.Provider + " event ", record.Message, StringComparison.Ordinal);
        var back = Assert.IsType<LogRecord>(NdjsonReader.ParseLine(NdjsonWriter.ToLine(record), 1));
        WindowsEventLogRecordsTests.AssertSameRecord(record, back);
    }
}
