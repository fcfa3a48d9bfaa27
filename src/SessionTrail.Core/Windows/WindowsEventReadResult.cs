namespace SessionTrail.Core.Windows;

/// <summary>
/// Why one event (or the rest of a document) could not be read: <see cref="Origin"/> is the file name
/// (or channel) given to the reader, <see cref="Line"/>/<see cref="Column"/> are 1-based and point at the
/// event's opening <c>&lt;Event</c> tag (or, for broken XML, at the place the XML parser gave up).
/// </summary>
public sealed record WindowsEventReadError(string Origin, int Line, int Column, string Reason)
{
    /// <summary>True when the XML itself is broken: the reader went on at the next <c>&lt;Event</c> tag after this place (the reason says whether there was one).</summary>
    public bool Fatal { get; init; }

    /// <summary><c>origin:line:column: reason</c>, the shape compilers use.</summary>
    public override string ToString() => $"{Origin}:{Line}:{Column}: {Reason}";
}

/// <summary>One result of <see cref="WindowsEventXmlReader"/>: either an event or an error, never both.</summary>
public sealed record WindowsEventReadResult
{
    private WindowsEventReadResult(WindowsEvent? windowsEvent, WindowsEventReadError? error)
    {
        Event = windowsEvent;
        Error = error;
    }

    /// <summary>The event, when it was read; its <see cref="WindowsEvent.Origin"/> is <c>origin:line</c>.</summary>
    public WindowsEvent? Event { get; }

    /// <summary>What was wrong, when the event could not be read.</summary>
    public WindowsEventReadError? Error { get; }

    public static WindowsEventReadResult Ok(WindowsEvent windowsEvent) => new(windowsEvent, null);

    public static WindowsEventReadResult Failed(WindowsEventReadError error) => new(null, error);
}
