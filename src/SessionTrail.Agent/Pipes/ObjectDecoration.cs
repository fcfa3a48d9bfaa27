using System.Globalization;
using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>
/// A sink's <c>ObjectDecoration</c> (KinesisTap's legacy syntax), parsed once at start into attributes
/// of literal and variable parts, then evaluated per record at fan-out time:
/// <c>key=value;key2=value2</c>, where a value may hold variables such as <c>{env:NAME}</c>,
/// <c>{hostname}</c>, <c>{timestamp:FORMAT}</c>, <c>{$field}</c> or our <c>{session:FIELD}</c>.
/// The segment <c>{appstreamVariables}</c> expands to the five AppStream attributes of the live session.
/// An attribute whose value is empty is left out (as KinesisTap does).
/// </summary>
public sealed class ObjectDecoration
{
    /// <summary>The attributes <c>{appstreamVariables}</c> stands for, with the session field each comes from.</summary>
    public static readonly IReadOnlyList<(string Key, string SessionField)> AppStreamVariables =
    [
        (SessionEnvironment.StackName, "stack"),
        (SessionEnvironment.AccessMode, "accessMode"),
        (SessionEnvironment.ReservationTime, "reservationTime"),
        (SessionEnvironment.UserName, "user"),
        (SessionEnvironment.SessionId, "id"),
    ];

    /// <summary>The names <c>{session:FIELD}</c> accepts.</summary>
    public static readonly IReadOnlyList<string> SessionFields = ["id", "user", "stack", "fleet", "accessMode", "reservationTime", "instanceType", "region", "imageArn", "started"];

    private static readonly Dictionary<string, string> AppStreamEnvironmentToSession = new(StringComparer.OrdinalIgnoreCase)
    {
        [SessionEnvironment.SessionId] = "id",
        [SessionEnvironment.UserName] = "user",
        [SessionEnvironment.StackName] = "stack",
        [SessionEnvironment.Fleet] = "fleet",
        [SessionEnvironment.AccessMode] = "accessMode",
        [SessionEnvironment.ReservationTime] = "reservationTime",
        [SessionEnvironment.InstanceType] = "instanceType",
        [SessionEnvironment.ImageArn] = "imageArn",
    };

    private readonly Attribute[] _attributes;

    private ObjectDecoration(string text, Attribute[] attributes)
    {
        Text = text;
        _attributes = attributes;
    }

    /// <summary>The decoration as written in the config.</summary>
    public string Text { get; }

    /// <summary>The attribute names, in order (after expanding <c>{appstreamVariables}</c>).</summary>
    public IReadOnlyList<string> Keys => [.. _attributes.Select(a => a.Key)];

    /// <summary>
    /// Parses <paramref name="text"/>. Throws <see cref="LogConfigException"/> on <paramref name="path"/>
    /// (e.g. "Sinks:0:ObjectDecoration") for a segment without '=', an empty or repeated key, an unclosed
    /// '{', an unknown <c>{session:FIELD}</c> or a bad <c>{timestamp:FORMAT}</c>.
    /// </summary>
    /// <param name="getEnvironment">Reads an environment variable of the agent (default <see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    public static ObjectDecoration Parse(string text, string path, Func<string, string?>? getEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var env = getEnvironment ?? Environment.GetEnvironmentVariable;
        var attributes = new List<Attribute>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Add(Attribute attribute, int segment)
        {
            if (!seen.Add(attribute.Key))
            {
                throw new LogConfigException(path, $"gives the attribute '{attribute.Key}' twice (segment {segment})");
            }

            attributes.Add(attribute);
        }

        var segments = SplitSegments(text, path);
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i].Trim();
            if (segment.Length == 0)
            {
                continue;
            }

            var number = i + 1;
            if (string.Equals(segment, "{appstreamVariables}", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (name, field) in AppStreamVariables)
                {
                    Add(new Attribute(name, [Part.Session(field)]), number);
                }

                continue;
            }

            var eq = segment.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new LogConfigException(path, $"segment {number} '{segment}' is not key=value (only {{appstreamVariables}} may stand alone)");
            }

            var key = segment[..eq].Trim();
            if (key.Length == 0)
            {
                throw new LogConfigException(path, $"segment {number} '{segment}' has no key before '='");
            }

            Add(new Attribute(key, ParseValue(segment[(eq + 1)..].Trim(), path, number, env)), number);
        }

        return new ObjectDecoration(text, [.. attributes]);
    }

    /// <summary>
    /// The attributes for <paramref name="record"/>: <paramref name="session"/> is the explicit session
    /// when one is active (null otherwise; then <c>{session:id}</c> is the record's own session).
    /// Null when every value is empty.
    /// </summary>
    public Dictionary<string, string>? Evaluate(LogRecord record, CurrentSession? session)
    {
        ArgumentNullException.ThrowIfNull(record);
        Dictionary<string, string>? result = null;
        var builder = default(StringBuilder);
        foreach (var attribute in _attributes)
        {
            string? value;
            var parts = attribute.Parts;
            if (parts.Length == 1)
            {
                value = parts[0].Evaluate(record, session);
            }
            else
            {
                builder ??= new StringBuilder();
                builder.Clear();
                foreach (var part in parts)
                {
                    builder.Append(part.Evaluate(record, session));
                }

                value = builder.ToString();
            }

            if (!string.IsNullOrEmpty(value))
            {
                result ??= new Dictionary<string, string>(_attributes.Length, StringComparer.Ordinal);
                result[attribute.Key] = value;
            }
        }

        return result;
    }

    /// <summary>A field of the session: the explicit session's, or for "id" the record's session.</summary>
    internal static string? SessionField(string field, CurrentSession? session, TrailRecord record) => field switch
    {
        "id" => session?.Id ?? record.Session,
        "user" => session?.Fields.User,
        "stack" => session?.Fields.Stack,
        "fleet" => session?.Fields.Fleet,
        "accessMode" => session?.Fields.AccessMode,
        "reservationTime" => session?.Fields.ReservationTime,
        "instanceType" => session?.Fields.InstanceType,
        "region" => session?.Fields.Region,
        "imageArn" => session?.Fields.ImageArn,
        "started" => session is null ? null : NdjsonWriter.FormatTime(session.Started),
        _ => null,
    };

    /// <summary>Splits on ';' outside braces (a format such as {timestamp:HH;mm} keeps its ';').</summary>
    private static List<string> SplitSegments(string text, string path)
    {
        var segments = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '{':
                    depth++;
                    break;
                case '}':
                    depth = Math.Max(0, depth - 1);
                    break;
                case ';' when depth == 0:
                    segments.Add(text[start..i]);
                    start = i + 1;
                    break;
            }
        }

        if (depth > 0)
        {
            throw new LogConfigException(path, $"has a '{{' without its '}}' in '{text[start..]}'");
        }

        segments.Add(text[start..]);
        return segments;
    }

    private static Part[] ParseValue(string value, string path, int segment, Func<string, string?> env)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < value.Length)
        {
            var open = value.IndexOf('{', i);
            if (open < 0)
            {
                literal.Append(value, i, value.Length - i);
                break;
            }

            literal.Append(value, i, open - i);
            var close = value.IndexOf('}', open + 1);
            if (close < 0)
            {
                throw new LogConfigException(path, $"segment {segment} has a '{{' without its '}}'");
            }

            var variable = Variable(value[(open + 1)..close], path, segment, env);
            if (variable.Kind == PartKind.Literal)
            {
                literal.Append(variable.Argument);
            }
            else
            {
                if (literal.Length > 0)
                {
                    parts.Add(Part.Literal(literal.ToString()));
                    literal.Clear();
                }

                parts.Add(variable);
            }

            i = close + 1;
        }

        if (literal.Length > 0 || parts.Count == 0)
        {
            parts.Add(Part.Literal(literal.ToString()));
        }

        return [.. parts];
    }

    private static Part Variable(string name, string path, int segment, Func<string, string?> env)
    {
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        var prefix = colon < 0 ? name : name[..colon];
        var argument = colon < 0 ? "" : name[(colon + 1)..];
        switch (prefix.ToUpperInvariant())
        {
            case "ENV" when colon >= 0:
                return Part.Environment(argument, env, AppStreamEnvironmentToSession.GetValueOrDefault(argument));
            case "SESSION" when colon >= 0:
                var field = SessionFields.FirstOrDefault(f => string.Equals(f, argument, StringComparison.OrdinalIgnoreCase))
                    ?? throw new LogConfigException(path, $"segment {segment}: {{session:{argument}}} is not a session field ({string.Join(", ", SessionFields)})");
                return Part.Session(field);
            case "TIMESTAMP" when colon >= 0:
                try
                {
                    _ = DateTime.UnixEpoch.ToString(argument, CultureInfo.InvariantCulture);
                }
                catch (FormatException)
                {
                    throw new LogConfigException(path, $"segment {segment}: '{argument}' in {{timestamp:{argument}}} is not a .NET date format");
                }

                return new Part(PartKind.Timestamp, argument);
            case "HOSTNAME" when colon < 0:
                return new Part(PartKind.Host, "");
            case "UNIFORMTIMESTAMP" when colon < 0:
            case "_TIMESTAMP" when colon < 0:
                return new Part(PartKind.IsoTime, "");
            case "_RECORD" when colon < 0:
                return new Part(PartKind.RecordText, "");
            case "_FILENAME" when colon < 0:
                // A "_filename" field, else the last part of the file's path (either separator).
                return new Part(PartKind.Field, "_filename")
                {
                    Accessor = r => LogRecordText.Lookup(r.Fields, "_filename")
                        ?? (FilePathOf(r) is { } filePath ? filePath[(filePath.LastIndexOfAny(['/', '\\']) + 1)..] : null),
                };
            case "_FILEPATH" when colon < 0:
                // A "_filepath" field, else the Channel (the file source puts the file's full path there).
                return new Part(PartKind.Field, "_filepath") { Accessor = FilePathOf };
            case "_POSITION" or "_LINENUMBER" when colon < 0:
                return new Part(PartKind.Field, name.ToLowerInvariant()) { Accessor = LogRecordText.Accessor(name.ToLowerInvariant()) };
            case "INSTANCE_ID" or "EC2" or "EC2TAG":
                // EC2 instance metadata and tags are not read by this agent: the variable stays as written.
                return Part.Literal("{" + name + "}");
        }

        if (name.StartsWith('$') && name.Length > 1)
        {
            var fieldName = name[1..];
            return new Part(PartKind.Field, fieldName) { Accessor = LogRecordText.Accessor(fieldName) };
        }

        // {NAME}: the environment variable when set, else the text as written (KinesisTap's rule).
        return Part.Environment(name, env, AppStreamEnvironmentToSession.GetValueOrDefault(name), keepLiteral: true);
    }

    private enum PartKind
    {
        Literal,
        Environment,
        Session,
        Timestamp,
        IsoTime,
        Host,
        RecordText,
        Field,
    }

    private sealed record Attribute(string Key, Part[] Parts);

    private sealed record Part(PartKind Kind, string Argument)
    {
        public Func<string, string?>? Env { get; init; }

        public string? SessionFallback { get; init; }

        public bool KeepLiteral { get; init; }

        public Func<LogRecord, string?>? Accessor { get; init; }

        public static Part Literal(string text) => new(PartKind.Literal, text);

        public static Part Session(string field) => new(PartKind.Session, field);

        public static Part Environment(string name, Func<string, string?> env, string? sessionFallback, bool keepLiteral = false) =>
            new(PartKind.Environment, name) { Env = env, SessionFallback = sessionFallback, KeepLiteral = keepLiteral };

        public string? Evaluate(LogRecord record, CurrentSession? session)
        {
            switch (Kind)
            {
                case PartKind.Literal:
                    return Argument;
                case PartKind.Session:
                    return SessionField(Argument, session, record);
                case PartKind.Environment:
                    var value = Env!(Argument);
                    if (!string.IsNullOrEmpty(value))
                    {
                        return value;
                    }

                    // AppStream user variables are not in the agent's (SYSTEM's) environment: the live session has them.
                    if (SessionFallback is not null && SessionField(SessionFallback, session, record) is { Length: > 0 } fromSession)
                    {
                        return fromSession;
                    }

                    return KeepLiteral ? "{" + Argument + "}" : null;
                case PartKind.Timestamp:
                    return record.Time.UtcDateTime.ToString(Argument, CultureInfo.InvariantCulture);
                case PartKind.IsoTime:
                    return NdjsonWriter.FormatTime(record.Time);
                case PartKind.Host:
                    return record.Host;
                case PartKind.RecordText:
                    return LogRecordText.Render(record);
                case PartKind.Field:
                    return Accessor!(record);
                default:
                    return null;
            }
        }
    }

    /// <summary>The path of the file a record was read from: a "_filepath" field, else the Channel of a file source's record (it has "_position").</summary>
    private static string? FilePathOf(LogRecord record) =>
        LogRecordText.Lookup(record.Fields, "_filepath")
        ?? (LogRecordText.Lookup(record.Fields, "_position") is not null ? record.Channel : null);
}
