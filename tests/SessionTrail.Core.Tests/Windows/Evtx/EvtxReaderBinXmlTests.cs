using System.Text;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>BinXml features beyond the real sample, on a file written token by token (see <see cref="BinXmlWriter"/>).</summary>
public class EvtxReaderBinXmlTests
{
    private static readonly byte[] ProviderGuid = new Guid("54849625-5478-4994-A5BA-3E3B0328C30D").ToByteArray();

    [Fact]
    public void Nested_binxml_value_types_optional_values_and_a_reused_template()
    {
        var w = new BinXmlWriter();
        int? definition = null;

        void Template()
        {
            w.Element("Event", content: () =>
            {
                w.Element("System", content: () =>
                {
                    w.Element("Provider", attributes: () =>
                    {
                        w.Attribute("Name", () => w.Text("Test-Provider"), last: false);
                        w.Attribute("Guid", () => w.Substitution(0, 0x0f));
                    });
                    w.Element("EventID", content: () => w.Substitution(1, 0x06));
                    w.Element("Version", content: () => w.Substitution(2, 0x04));
                    w.Element("TimeCreated", attributes: () => w.Attribute("SystemTime", () => w.Substitution(3, 0x12)));
                    w.Element("EventRecordID", content: () => w.Substitution(4, 0x0a));
                    w.Element("Channel", content: () => w.Substitution(5, 0x01, optional: true));
                    w.Substitution(6, 0x21); // <Computer> comes from a nested BinXml value
                });
                w.Element("EventData", content: () =>
                {
                    void Data(string name, int index, byte type, bool optional = false) =>
                        w.Element("Data", attributes: () => w.Attribute("Name", () => w.Text(name)), content: () => w.Substitution(index, type, optional));
                    Data("Sid", 7, 0x13);
                    Data("Names", 8, 0x81);
                    Data("Pid", 9, 0x14);
                    Data("When", 10, 0x11);
                    Data("Elevated", 11, 0x0d);
                    Data("Blob", 12, 0x0e);
                    Data("Missing", 13, 0x01, optional: true);
                    Data("Empty", 14, 0x01);
                    Data("Size", 15, 0x10);
                    Data("Guid", 0, 0x0f);
                });
            });
        }

        void Event(int eventId, string host, int pid)
        {
            w.Record(() => definition = w.TemplateInstance(
                definition is null ? Template : null,
                definition,
                (0x0f, () => w.Bytes(ProviderGuid)),
                (0x06, () => w.U16(eventId)),
                (0x04, () => w.U8(1)),
                (0x12, () => { foreach (var part in new[] { 2024, 2, 4, 29, 13, 14, 15, 678 }) { w.U16(part); } }),
                (0x0a, () => w.U64(77 + eventId)),
                (0x00, () => { }),
                (0x21, () => w.Element("Computer", dependencyId: false, content: () =>
                {
                    w.Text(host, more: true);
                    w.EntityReference("amp");
                    w.CharacterReference('1');
                })),
                (0x13, () => w.Bytes([1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0])),
                (0x81, () => w.Bytes(Encoding.Unicode.GetBytes("a\0b c\0"))),
                (0x14, () => w.U32(pid)),
                (0x11, () => w.U64(new DateTime(2021, 11, 3, 8, 34, 27, DateTimeKind.Utc).AddTicks(9783762).ToFileTimeUtc())),
                (0x0d, () => w.U32(1)),
                (0x0e, () => w.Bytes([0xde, 0xad, 0xbe, 0xef])),
                (0x00, () => { }),
                (0x00, () => { }),
                (0x15, () => w.U64(0xef4))));
        }

        Event(4689, "HOST", 0x1a4);
        Event(4688, "OTHER", 0x2b);
        var (events, errors, reader) = EvtxReaderRealFileTests.ReadAll(w.ToFile());

        Assert.Empty(errors);
        Assert.Equal(2, reader.Header!.NextRecordNumber - 1);
        Assert.Equal(2, events.Count);
        var e = events[0];
        Assert.Equal("Test-Provider", e.Provider);
        Assert.Equal(4689, e.EventId);
        Assert.Equal(1, e.Version);
        Assert.Equal(new DateTimeOffset(2024, 2, 29, 13, 14, 15, 678, TimeSpan.Zero), e.TimeCreated);
        Assert.Equal(77 + 4689, e.RecordId);
        Assert.Null(e.Channel); // optional substitution with no value: no <Channel>
        Assert.Equal("HOST&1", e.Computer);
        Assert.Equal("S-1-5-21-1-2-3-1001", e.Data["Sid"]);
        Assert.Equal("a, b c", e.Data["Names"]);
        Assert.Equal("0x1a4", e.Data["Pid"]);
        Assert.Equal("2021-11-03T08:34:27.9783762Z", e.Data["When"]);
        Assert.Equal("true", e.Data["Elevated"]);
        Assert.Equal("DEADBEEF", e.Data["Blob"]);
        Assert.False(e.Data.ContainsKey("Missing"));
        Assert.Equal("", e.Data["Empty"]);
        Assert.Equal("0xef4", e.Data["Size"]);
        Assert.Equal("{54849625-5478-4994-A5BA-3E3B0328C30D}", e.Data["Guid"]);
        Assert.Equal("test.evtx#1", e.Origin);

        // The second record uses the first one's template by offset, with its own values.
        Assert.Equal(4688, events[1].EventId);
        Assert.Equal("OTHER&1", events[1].Computer);
        Assert.Equal("0x2b", events[1].Data["Pid"]);
        Assert.Equal("test.evtx#2", events[1].Origin);
    }

    [Fact]
    public void A_value_of_the_wrong_size_for_its_type_is_a_clear_record_error()
    {
        var w = new BinXmlWriter();
        w.Record(() => w.TemplateInstance(
            () => w.Element("Event", content: () => w.Element("System", content: () => w.Element("EventID", content: () => w.Substitution(0, 0x08)))),
            null,
            (0x08, () => w.U16(4688))));
        var (events, errors, _) = EvtxReaderRealFileTests.ReadAll(w.ToFile());
        Assert.Empty(events);
        var error = Assert.Single(errors);
        Assert.Equal(1, error.RecordNumber);
        Assert.Contains("value type 0x08 needs 4 bytes, has 2", error.Message, StringComparison.Ordinal);
    }
}
