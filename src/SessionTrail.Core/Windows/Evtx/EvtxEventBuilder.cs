using System.Globalization;

namespace SessionTrail.Core.Windows.Evtx;

/// <summary>An element of an event after substitution: name, attributes, child elements and text.</summary>
internal sealed class EventElement(string name)
{
    private string? text;
    private System.Text.StringBuilder? longText;

    public string Name { get; } = name;

    public List<KeyValuePair<string, string>>? Attributes { get; private set; }

    public List<EventElement>? Children { get; private set; }

    public string Text => longText?.ToString() ?? text ?? "";

    public void AddAttribute(string attributeName, string value) => (Attributes ??= []).Add(new(attributeName, value));

    public void AddChild(EventElement child) => (Children ??= []).Add(child);

    public void AppendText(string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (text is null && longText is null)
        {
            text = value;
            return;
        }

        longText ??= new System.Text.StringBuilder(text);
        longText.Append(value);
    }

    public string? Attribute(string attributeName)
    {
        if (Attributes is null)
        {
            return null;
        }

        foreach (var (key, value) in Attributes)
        {
            if (key == attributeName)
            {
                return value;
            }
        }

        return null;
    }

    public EventElement? Child(string childName)
    {
        if (Children is null)
        {
            return null;
        }

        foreach (var child in Children)
        {
            if (child.Name == childName)
            {
                return child;
            }
        }

        return null;
    }
}

/// <summary>
/// Applies template substitutions to parsed BinXml (expanding nested BinXml values) and reads the
/// <see cref="WindowsEvent"/> fields from the result.
/// </summary>
internal sealed class EvtxEventBuilder(BinXmlParser parser)
{
    private static readonly BinXmlValue[] NoValues = [];

    /// <summary>The event element of one record's BinXml in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public EventElement Build(int start, int end)
    {
        var document = new EventElement("#document");
        Resolve(parser.ParseDocument(start, end, dependencyIds: true, depth: 0), NoValues, document, 0);
        return document.Child("Event")
            ?? throw new EvtxFormatException(start, document.Children is { Count: > 0 } c
                ? $"root element is <{c[0].Name}>, expected <Event>"
                : "no <Event> element");
    }

    /// <summary>Reads the fields SessionTrail uses from an <c>Event</c> element.</summary>
    public static WindowsEvent ToWindowsEvent(EventElement root, int recordOffset, string origin)
    {
        var system = root.Child("System") ?? throw new EvtxFormatException(recordOffset, "event has no <System>");
        var provider = system.Child("Provider")?.Attribute("Name");
        if (string.IsNullOrEmpty(provider))
        {
            throw new EvtxFormatException(recordOffset, "event has no System/Provider/@Name");
        }

        var eventIdText = system.Child("EventID")?.Text;
        if (!int.TryParse(eventIdText, NumberStyles.None, CultureInfo.InvariantCulture, out var eventId))
        {
            throw new EvtxFormatException(recordOffset, $"System/EventID '{Clip(eventIdText)}' is not a number");
        }

        var timeText = system.Child("TimeCreated")?.Attribute("SystemTime");
        if (!DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new EvtxFormatException(recordOffset, $"System/TimeCreated/@SystemTime '{Clip(timeText)}' is not a time");
        }

        var computer = system.Child("Computer")?.Text;
        if (string.IsNullOrEmpty(computer))
        {
            throw new EvtxFormatException(recordOffset, "event has no System/Computer");
        }

        var version = int.TryParse(system.Child("Version")?.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
        long? recordId = long.TryParse(system.Child("EventRecordID")?.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : null;
        var channel = system.Child("Channel")?.Text;
        return new WindowsEvent
        {
            Provider = provider,
            EventId = eventId,
            Version = version,
            TimeCreated = time.ToUniversalTime(),
            RecordId = recordId,
            Channel = string.IsNullOrEmpty(channel) ? null : channel,
            Computer = computer,
            Level = WindowsEventFields.SmallNumber(system.Child("Level")?.Text),
            Task = WindowsEventFields.SmallNumber(system.Child("Task")?.Text),
            Opcode = WindowsEventFields.SmallNumber(system.Child("Opcode")?.Text),
            Keywords = WindowsEventFields.Text(system.Child("Keywords")?.Text),
            UserId = WindowsEventFields.Text(system.Child("Security")?.Attribute("UserID")),
            ProcessId = WindowsEventFields.Number(system.Child("Execution")?.Attribute("ProcessID")),
            ThreadId = WindowsEventFields.Number(system.Child("Execution")?.Attribute("ThreadID")),
            Data = ReadData(root),
            Origin = origin,
        };
    }

    /// <summary>
    /// <c>EventData/Data</c> by <c>Name</c> (an unnamed <c>Data</c> as <c>Data0</c>, <c>Data1</c>, ...); an
    /// event with <c>UserData</c> gives the leaves below its wrapper element by path (the rules of
    /// <see cref="WindowsEvent.Data"/>, the same as the XML reader's).
    /// </summary>
    private static Dictionary<string, string> ReadData(EventElement root)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.Child("EventData")?.Children is { } fields)
        {
            var unnamed = 0;
            foreach (var field in fields)
            {
                if (field.Name == "Data")
                {
                    data[field.Attribute("Name") ?? WindowsEventFields.UnnamedData(unnamed++)] = field.Text;
                }
            }
        }

        if (root.Child("UserData")?.Children is { } wrappers)
        {
            foreach (var wrapper in wrappers)
            {
                foreach (var field in wrapper.Children ?? [])
                {
                    AddLeaves(data, field, field.Name, 0);
                }
            }
        }

        return data;
    }

    private static void AddLeaves(Dictionary<string, string> data, EventElement element, string path, int depth)
    {
        if (element.Children is not { Count: > 0 } children || depth > BinXmlParser.MaxDepth)
        {
            WindowsEventFields.AddUserData(data, path, element.Text);
            return;
        }

        foreach (var child in children)
        {
            AddLeaves(data, child, path + "." + child.Name, depth + 1);
        }
    }

    private static string? Clip(string? s) => s is { Length: > 40 } ? s[..40] + "…" : s;

    private void Resolve(List<BinXmlNode>? nodes, BinXmlValue[] values, EventElement parent, int depth)
    {
        if (nodes is null)
        {
            return;
        }

        if (depth > BinXmlParser.MaxDepth)
        {
            throw new EvtxFormatException(0, $"BinXml nested deeper than {BinXmlParser.MaxDepth}");
        }

        foreach (var node in nodes)
        {
            switch (node)
            {
                case BinXmlElement element:
                    if (HasNullOptional(element.Content, values))
                    {
                        break; // an optional substitution with no value removes its element
                    }

                    var resolved = new EventElement(element.Name);
                    if (element.Attributes is { } attributes)
                    {
                        foreach (var attribute in attributes)
                        {
                            if (!HasNullOptional(attribute.Value, values))
                            {
                                resolved.AddAttribute(attribute.Name, TextOf(attribute.Value, values));
                            }
                        }
                    }

                    Resolve(element.Content, values, resolved, depth + 1);
                    parent.AddChild(resolved);
                    break;
                case BinXmlTemplateInstance instance:
                    Resolve(instance.Template.Nodes, instance.Values, parent, depth + 1);
                    break;
                case BinXmlText text:
                    parent.AppendText(text.Text);
                    break;
                case BinXmlSubstitution substitution:
                    var value = ValueOf(substitution, values);
                    if (value.Type == BinXmlValues.BinXml)
                    {
                        var nested = parser.ParseDocument(value.Offset, value.Offset + value.Size, dependencyIds: false, depth + 1);
                        Resolve(nested, NoValues, parent, depth + 1);
                    }
                    else
                    {
                        parent.AppendText(BinXmlValues.Render(parser.Chunk, value));
                    }

                    break;
            }
        }
    }

    private string TextOf(List<BinXmlNode> parts, BinXmlValue[] values)
    {
        if (parts is [BinXmlText only])
        {
            return only.Text;
        }

        var text = new System.Text.StringBuilder();
        foreach (var part in parts)
        {
            switch (part)
            {
                case BinXmlText t:
                    text.Append(t.Text);
                    break;
                case BinXmlSubstitution s:
                    var value = ValueOf(s, values);
                    if (value.Type != BinXmlValues.BinXml)
                    {
                        text.Append(BinXmlValues.Render(parser.Chunk, value));
                    }

                    break;
            }
        }

        return text.ToString();
    }

    private static bool HasNullOptional(List<BinXmlNode>? parts, BinXmlValue[] values)
    {
        if (parts is null)
        {
            return false;
        }

        foreach (var part in parts)
        {
            if (part is BinXmlSubstitution { Optional: true } s && s.Index < values.Length
                && values[s.Index].Type == BinXmlValues.Null)
            {
                return true;
            }
        }

        return false;
    }

    private static BinXmlValue ValueOf(BinXmlSubstitution substitution, BinXmlValue[] values) =>
        substitution.Index < values.Length
            ? values[substitution.Index]
            : throw new EvtxFormatException(0, $"substitution {substitution.Index} but the template instance has {values.Length} values");
}
