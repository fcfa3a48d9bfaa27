using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace SessionTrail.Core.Windows;

/// <summary>
/// Streams Windows events out of event XML, in both renderings seen in the wild: the compact,
/// single-quoted, one-event-per-line shape of <c>EventRecord.ToXml()</c> and the indented,
/// double-quoted shape of <c>wevtutil qe /f:xml</c> and libevtx <c>evtxexport -f xml</c>.
/// The input may hold one event, many <c>&lt;Event&gt;</c> elements one after another, or an
/// <c>&lt;Events&gt;</c> wrapper, with an XML declaration and comments anywhere.
/// <para>
/// Each event gives one <see cref="WindowsEventReadResult"/>: the event, or an error naming the line of
/// its <c>&lt;Event</c> tag and what is wrong (no EventID, a time that is not ISO-8601 UTC, ...);
/// reading goes on with the next event. XML that is not well-formed gives one
/// <see cref="WindowsEventReadError.Fatal"/> error at the line:column where the XML parser stopped, and
/// reading starts again at the next <c>&lt;Event</c> tag after that place (see <see cref="ResyncReader"/>);
/// the events after the break are not lost. No exception escapes for any input except the
/// I/O errors of the underlying reader; DTDs are prohibited, so no entity expansion, no external fetches.
/// </para>
/// <para>
/// What is read: <c>System/Provider/@Name</c>, <c>EventID</c>, <c>Version</c>, <c>TimeCreated/@SystemTime</c>,
/// <c>EventRecordID</c>, <c>Channel</c>, <c>Computer</c>, <c>Level</c>, <c>Task</c>, <c>Opcode</c>,
/// <c>Keywords</c>, <c>Execution/@ProcessID</c>/<c>@ThreadID</c>, <c>Security/@UserID</c>, every
/// <c>EventData/Data</c> by its <c>Name</c> (a <c>Data</c> without a name as <c>Data0</c>, <c>Data1</c>, ...),
/// and the leaves of <c>UserData</c> by element name (see <see cref="WindowsEvent.Data"/>).
/// <c>RenderingInfo</c> is ignored. Element names are matched by local name, whatever their namespace.
/// </para>
/// </summary>
public static partial class WindowsEventXmlReader
{
    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        ConformanceLevel = ConformanceLevel.Fragment,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = false,
        MaxCharactersFromEntities = 1024,
        CloseInput = false,
    };

    /// <summary>Reads every event of a text; <paramref name="origin"/> (e.g. the file name) is put in every result.</summary>
    public static IEnumerable<WindowsEventReadResult> Read(TextReader reader, string origin)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(origin);
        return ReadXml(reader, origin);
    }

    /// <summary>Reads every event of a byte stream; the encoding comes from a BOM (UTF-8 otherwise).</summary>
    public static IEnumerable<WindowsEventReadResult> Read(Stream stream, string origin)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(origin);
        return ReadXml(new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true), origin);
    }

    /// <summary>Reads every event of a file; the file's path is the origin. The file is opened on the first enumeration.</summary>
    public static IEnumerable<WindowsEventReadResult> ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
        foreach (var result in Read(stream, path))
        {
            yield return result;
        }
    }

    /// <summary>
    /// Reads one event from a string, as <c>EventRecord.ToXml()</c> gives it. A string without any
    /// <c>&lt;Event&gt;</c> is an error; a string with several gives the first.
    /// </summary>
    public static WindowsEventReadResult Parse(string xml, string origin)
    {
        ArgumentNullException.ThrowIfNull(xml);

        // Fast path for the live sources (one small document per event): no resync bookkeeping. Broken XML
        // goes the full way below, which gives the error with its place.
        try
        {
            using var direct = XmlReader.Create(new StringReader(xml), Settings);
            while (direct.Read())
            {
                if (direct.NodeType == XmlNodeType.Element && direct.LocalName == "Event")
                {
                    return ReadEvent(direct, origin, 0);
                }
            }
        }
        catch (XmlException)
        {
        }

        using var text = new StringReader(xml);
        return Read(text, origin).FirstOrDefault()
            ?? WindowsEventReadResult.Failed(new WindowsEventReadError(origin, 1, 1, "no <Event> element"));
    }

    private static IEnumerable<WindowsEventReadResult> ReadXml(TextReader source, string origin)
    {
        var tape = new ResyncReader(source);
        var restarted = false;
        while (true)
        {
            WindowsEventReadError? broken = null;
            using (var xml = XmlReader.Create(tape, Settings))
            {
                while (true)
                {
                    var (result, more) = Next(xml, origin, tape);
                    if (result?.Error is { Fatal: true } error)
                    {
                        broken = error;
                        break;
                    }

                    if (result is not null)
                    {
                        yield return result;
                    }

                    if (!more)
                    {
                        break;
                    }
                }
            }

            if (broken is null)
            {
                yield break;
            }

            // Broken XML: go on at the next <Event tag after the place the parser gave up.
            var relativeLine = broken.Line - tape.LineBase;
            var restart = tape.Restart(relativeLine, broken.Column);
            if (restart == ResyncReader.Outcome.OnlyWrapperEnd && restarted)
            {
                yield break; // the </Events> of a wrapper whose start was before the restart point
            }

            yield return WindowsEventReadResult.Failed(broken with
            {
                Reason = restart == ResyncReader.Outcome.Restarted
                    ? broken.Reason + " (skipped to the next <Event> tag)"
                    : broken.Reason + " (no <Event> tag after it: reading stopped here)",
            });
            if (restart != ResyncReader.Outcome.Restarted)
            {
                yield break;
            }

            restarted = true;
        }
    }

    /// <summary>Moves to the next <c>Event</c> element and reads it; (null, false) at the end.</summary>
    private static (WindowsEventReadResult? Result, bool More) Next(XmlReader xml, string origin, ResyncReader tape)
    {
        try
        {
            while (xml.Read())
            {
                if (xml.NodeType == XmlNodeType.Element && xml.LocalName == "Event")
                {
                    var info = (IXmlLineInfo)xml;
                    tape.Forget(info.LineNumber, info.LinePosition);
                    return (ReadEvent(xml, origin, tape.LineBase), true);
                }
            }

            return (null, false);
        }
        catch (XmlException e)
        {
            var error = new WindowsEventReadError(origin, Math.Max(1, e.LineNumber) + tape.LineBase, Math.Max(1, e.LinePosition),
                "not well-formed XML: " + e.Message) { Fatal = true };
            return (WindowsEventReadResult.Failed(error), false);
        }
    }

    /// <summary>Reads from an <c>Event</c> start tag to its end tag (the reader is left on the end tag).</summary>
    private static WindowsEventReadResult ReadEvent(XmlReader xml, string origin, int lineBase)
    {
        var info = (IXmlLineInfo)xml;
        var line = info.LineNumber + lineBase;
        var column = info.LinePosition;
        var fields = new EventFields();
        if (!xml.IsEmptyElement)
        {
            ReadEventBody(xml, fields);
        }

        var problem = fields.Problem;
        if (problem is null)
        {
            var windowsEvent = fields.Build($"{origin}:{line}", out problem);
            if (windowsEvent is not null)
            {
                return WindowsEventReadResult.Ok(windowsEvent with { Line = line });
            }
        }

        return WindowsEventReadResult.Failed(new WindowsEventReadError(origin, line, column, problem!));
    }

    private static void ReadEventBody(XmlReader xml, EventFields fields)
    {
        var eventDepth = xml.Depth;
        string? section = null;   // System, EventData, ... (the child of Event we are in)
        string? capture = null;   // the leaf whose text is being collected
        var captureDepth = -1;
        var text = new StringBuilder();
        var userData = new UserDataLeaves();
        while (xml.Read())
        {
            var depth = xml.Depth - eventDepth;
            if (section == "UserData" && depth >= 3)
            {
                userData.Read(xml, fields);
                continue;
            }

            switch (xml.NodeType)
            {
                case XmlNodeType.Element:
                    if (depth == 1)
                    {
                        section = xml.LocalName;
                    }
                    else if (depth == 2 && capture is null)
                    {
                        capture = fields.StartLeaf(section, xml);
                        if (capture is not null)
                        {
                            if (xml.IsEmptyElement)
                            {
                                fields.EndLeaf(capture, "");
                                capture = null;
                            }
                            else
                            {
                                captureDepth = xml.Depth;
                                text.Clear();
                            }
                        }
                    }

                    if (depth == 1 && xml.IsEmptyElement)
                    {
                        section = null;
                    }

                    break;
                case XmlNodeType.Text:
                case XmlNodeType.CDATA:
                case XmlNodeType.Whitespace:
                case XmlNodeType.SignificantWhitespace:
                    if (capture is not null)
                    {
                        text.Append(xml.Value);
                    }

                    break;
                case XmlNodeType.EndElement:
                    if (depth == 0)
                    {
                        return;
                    }

                    if (capture is not null && xml.Depth == captureDepth)
                    {
                        fields.EndLeaf(capture, text.ToString());
                        capture = null;
                    }
                    else if (depth == 1)
                    {
                        section = null;
                    }

                    break;
            }
        }
    }

    /// <summary>Collects the leaf elements below <c>UserData</c>'s wrapper element (depth 3 and deeper) with their paths.</summary>
    private sealed class UserDataLeaves
    {
        private readonly List<(string Name, StringBuilder Text, bool HasChildren)> open = [];

        public void Read(XmlReader xml, EventFields fields)
        {
            switch (xml.NodeType)
            {
                case XmlNodeType.Element:
                    if (open.Count > 0)
                    {
                        open[^1] = open[^1] with { HasChildren = true };
                    }

                    open.Add((xml.LocalName, new StringBuilder(), false));
                    if (xml.IsEmptyElement)
                    {
                        Close(fields);
                    }

                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    if (open.Count > 0)
                    {
                        open[^1].Text.Append(xml.Value);
                    }

                    break;
                case XmlNodeType.EndElement:
                    Close(fields);
                    break;
            }
        }

        private void Close(EventFields fields)
        {
            if (open.Count == 0)
            {
                return;
            }

            var (_, text, hasChildren) = open[^1];
            if (!hasChildren)
            {
                fields.AddUserData(string.Join('.', open.Select(o => o.Name)), text.ToString());
            }

            open.RemoveAt(open.Count - 1);
        }
    }

    [GeneratedRegex(@"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))?(Z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex SystemTimePattern();

    /// <summary>
    /// Parses <c>SystemTime</c>: ISO-8601 with <c>Z</c> or an offset, any number of fraction digits (libevtx
    /// writes 9; kept to 100 ns). A time with a space for the <c>T</c> and no zone (as some JSON exports
    /// re-rendered to XML have, e.g. <c>2020-10-18 10:56:14.648</c>) is taken as UTC, which SystemTime always is.
    /// </summary>
    internal static bool TryParseSystemTime(string value, out DateTimeOffset time)
    {
        time = default;
        var match = SystemTimePattern().Match(value.Trim());
        if (!match.Success)
        {
            return false;
        }

        var fraction = match.Groups[3].Success ? match.Groups[3].Value : "0";
        fraction = fraction.Length > 7 ? fraction[..7] : fraction.PadRight(7, '0');
        var zone = match.Groups[4].Value is "Z" or "" ? "+00:00" : match.Groups[4].Value;
        if (!DateTimeOffset.TryParseExact($"{match.Groups[1].Value}T{match.Groups[2].Value}.{fraction}{zone}", "yyyy-MM-ddTHH:mm:ss.fffffffzzz",
                CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        time = parsed.ToUniversalTime();
        return true;
    }

    /// <summary>What one event's XML gave, and the first thing found wrong with it.</summary>
    private sealed class EventFields
    {
        private readonly Dictionary<string, string> system = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> data = new(StringComparer.Ordinal);
        private string? providerName;
        private string? systemTime;
        private string? processId;
        private string? threadId;
        private string? userId;
        private int unnamed;

        public string? Problem { get; private set; }

        /// <summary>Returns the key under which the leaf's text is to be kept, or null to ignore it.</summary>
        public string? StartLeaf(string? section, XmlReader xml)
        {
            switch (section)
            {
                case "System":
                    switch (xml.LocalName)
                    {
                        case "Provider":
                            providerName ??= xml.GetAttribute("Name");
                            return null;
                        case "TimeCreated":
                            systemTime ??= xml.GetAttribute("SystemTime") ?? "";
                            return null;
                        case "Execution":
                            processId ??= xml.GetAttribute("ProcessID");
                            threadId ??= xml.GetAttribute("ThreadID");
                            return null;
                        case "Security":
                            userId ??= xml.GetAttribute("UserID");
                            return null;
                        case "EventID" or "Version" or "EventRecordID" or "Channel" or "Computer" or "Level" or "Task" or "Opcode" or "Keywords":
                            return "System/" + xml.LocalName;
                        default:
                            return null;
                    }

                case "EventData" when xml.LocalName == "Data":
                    var name = xml.GetAttribute("Name");
                    return "Data/" + (name ?? WindowsEventFields.UnnamedData(unnamed++));
                default:
                    return null;
            }
        }

        public void EndLeaf(string key, string value)
        {
            if (key.StartsWith("Data/", StringComparison.Ordinal))
            {
                var name = key[5..];
                if (!data.TryAdd(name, value))
                {
                    Problem ??= $"EventData has two Data named '{name}'";
                }
            }
            else if (!system.TryAdd(key[7..], value))
            {
                Problem ??= $"System has two {key[7..]} elements";
            }
        }

        public void AddUserData(string name, string value) => WindowsEventFields.AddUserData(data, name, value);

        public WindowsEvent? Build(string origin, out string? problem)
        {
            problem = null;
            if (string.IsNullOrWhiteSpace(providerName))
            {
                problem = "no System/Provider/@Name";
                return null;
            }

            if (!system.TryGetValue("EventID", out var idText))
            {
                problem = "no System/EventID";
                return null;
            }

            if (!int.TryParse(idText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var eventId))
            {
                problem = $"EventID '{Shorten(idText)}' is not a number";
                return null;
            }

            var version = 0;
            if (system.TryGetValue("Version", out var versionText)
                && !int.TryParse(versionText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out version))
            {
                problem = $"Version '{Shorten(versionText)}' is not a number";
                return null;
            }

            if (systemTime is null)
            {
                problem = "no System/TimeCreated/@SystemTime";
                return null;
            }

            if (!TryParseSystemTime(systemTime, out var time))
            {
                problem = $"TimeCreated/@SystemTime '{Shorten(systemTime)}' is not an ISO-8601 time";
                return null;
            }

            long? recordId = null;
            if (system.TryGetValue("EventRecordID", out var recordText))
            {
                if (!long.TryParse(recordText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsedRecord))
                {
                    problem = $"EventRecordID '{Shorten(recordText)}' is not a number";
                    return null;
                }

                recordId = parsedRecord;
            }

            if (!system.TryGetValue("Computer", out var computer) || string.IsNullOrWhiteSpace(computer))
            {
                problem = "no System/Computer";
                return null;
            }

            var channel = system.TryGetValue("Channel", out var channelText) && !string.IsNullOrWhiteSpace(channelText)
                ? channelText.Trim()
                : null;
            return new WindowsEvent
            {
                Provider = providerName.Trim(),
                EventId = eventId,
                Version = version,
                TimeCreated = time,
                RecordId = recordId,
                Channel = channel,
                Computer = computer.Trim(),
                Level = WindowsEventFields.SmallNumber(system.GetValueOrDefault("Level")),
                Task = WindowsEventFields.SmallNumber(system.GetValueOrDefault("Task")),
                Opcode = WindowsEventFields.SmallNumber(system.GetValueOrDefault("Opcode")),
                Keywords = WindowsEventFields.Text(system.GetValueOrDefault("Keywords")),
                UserId = WindowsEventFields.Text(userId),
                ProcessId = WindowsEventFields.Number(processId),
                ThreadId = WindowsEventFields.Number(threadId),
                Data = data,
                Origin = origin,
            };
        }

        private static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "...";
    }
}
