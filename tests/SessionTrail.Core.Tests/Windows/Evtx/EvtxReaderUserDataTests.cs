using SessionTrail.Core.Windows;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>
/// What the real sample lacks, written token by token (<see cref="BinXmlWriter"/>): the optional System fields,
/// unnamed <c>Data</c> and nested, repeated <c>UserData</c>. The .evtx reader must give the same
/// <see cref="WindowsEvent"/> as the XML reader gives for the same event's XML.
/// </summary>
public class EvtxReaderUserDataTests
{
    private const string System = "<System><Provider Name='Test-Provider'/><EventID>1102</EventID><Version>0</Version><Level>4</Level><Task>104</Task>"
        + "<Opcode>0</Opcode><Keywords>0x4020000000000000</Keywords><TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><EventRecordID>9</EventRecordID>"
        + "<Execution ProcessID='1044' ThreadID='2088'/><Channel>Security</Channel><Computer>pc1</Computer><Security UserID='S-1-5-18'/></System>";

    [Fact]
    public void UserDataUnnamedDataAndSystemFieldsMatchTheXmlReader()
    {
        var w = new BinXmlWriter();
        w.Record(() => w.TemplateInstance(() => w.Element("Event", content: () =>
        {
            WriteSystem(w);
            w.Element("UserData", content: () => w.Element("LogFileCleared", content: () =>
            {
                w.Element("SubjectUserSid", content: () => w.Text("S-1-5-21-1-2-3-500"));
                w.Element("Client", content: () =>
                {
                    w.Element("Name", content: () => w.Text("pc9"));
                    w.Element("Port", content: () => w.Text("445"));
                });
                w.Element("Item", content: () => w.Text("a"));
                w.Element("Item", content: () => w.Text("b"));
                w.Element("Empty");
            }));
        }), null));
        w.Record(() => w.TemplateInstance(() => w.Element("Event", content: () =>
        {
            WriteSystem(w);
            w.Element("EventData", content: () =>
            {
                w.Element("Data", content: () => w.Text("first"));
                w.Element("Data", attributes: () => w.Attribute("Name", () => w.Text("Named")), content: () => w.Text("n"));
                w.Element("Data", content: () => w.Text("second"));
            });
        }), null));
        var (events, errors, _) = EvtxReaderRealFileTests.ReadAll(w.ToFile());
        Assert.Empty(errors);
        Assert.Equal(2, events.Count);

        var userData = Xml("<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'><SubjectUserSid>S-1-5-21-1-2-3-500</SubjectUserSid>"
            + "<Client><Name>pc9</Name><Port>445</Port></Client><Item>a</Item><Item>b</Item><Empty/></LogFileCleared></UserData>");
        var eventData = Xml("<EventData><Data>first</Data><Data Name='Named'>n</Data><Data>second</Data></EventData>");
        Assert.Equal(["SubjectUserSid", "Client.Name", "Client.Port", "Item", "Item_1", "Empty"], events[0].Data.Keys);
        Assert.Equal(["Data0", "Named", "Data1"], events[1].Data.Keys);
        foreach (var (evtx, xml) in new[] { (events[0], userData), (events[1], eventData) })
        {
            Assert.Equal(xml.Data, evtx.Data);
            Assert.Equal((4, 104, 0, "0x4020000000000000", "S-1-5-18", 1044L, 2088L), (evtx.Level, evtx.Task, evtx.Opcode, evtx.Keywords, evtx.UserId, evtx.ProcessId, evtx.ThreadId));
            Assert.Equal((xml.Level, xml.Task, xml.Opcode, xml.Keywords, xml.UserId, xml.ProcessId, xml.ThreadId), (evtx.Level, evtx.Task, evtx.Opcode, evtx.Keywords, evtx.UserId, evtx.ProcessId, evtx.ThreadId));
            Assert.Equal((xml.Provider, xml.EventId, xml.TimeCreated, xml.RecordId, xml.Channel, xml.Computer), (evtx.Provider, evtx.EventId, evtx.TimeCreated, evtx.RecordId, evtx.Channel, evtx.Computer));
        }
    }

    private static WindowsEvent Xml(string body)
    {
        var result = WindowsEventXmlReader.Parse("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>" + System + body + "</Event>", "x");
        return result.Event ?? throw new InvalidOperationException(result.Error!.ToString());
    }

    private static void WriteSystem(BinXmlWriter w) => w.Element("System", content: () =>
    {
        w.Element("Provider", attributes: () => w.Attribute("Name", () => w.Text("Test-Provider")));
        w.Element("EventID", content: () => w.Text("1102"));
        w.Element("Version", content: () => w.Text("0"));
        w.Element("Level", content: () => w.Text("4"));
        w.Element("Task", content: () => w.Text("104"));
        w.Element("Opcode", content: () => w.Text("0"));
        w.Element("Keywords", content: () => w.Text("0x4020000000000000"));
        w.Element("TimeCreated", attributes: () => w.Attribute("SystemTime", () => w.Text("2024-05-01T10:00:00.1234567Z")));
        w.Element("EventRecordID", content: () => w.Text("9"));
        w.Element("Execution", attributes: () =>
        {
            w.Attribute("ProcessID", () => w.Text("1044"), last: false);
            w.Attribute("ThreadID", () => w.Text("2088"));
        });
        w.Element("Channel", content: () => w.Text("Security"));
        w.Element("Computer", content: () => w.Text("pc1"));
        w.Element("Security", attributes: () => w.Attribute("UserID", () => w.Text("S-1-5-18")));
    });
}
