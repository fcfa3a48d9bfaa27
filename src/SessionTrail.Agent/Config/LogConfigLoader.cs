using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// Reads the log-shipping part of the agent's config file in KinesisTap's appsettings.json shape:
/// top-level "Sources", "Sinks" (entries with "SinkType"; entries with "Type" are the data-lake sinks of
/// <see cref="Agent.Config.SinkConfiguration"/> and are skipped here) and "Pipes". Every problem is
/// collected (not just the first) with the key path it is about; see <see cref="LogShippingPlan.Problems"/>.
/// </summary>
public static class LogConfigLoader
{
    /// <summary>KinesisTap top-level sections SessionTrail reads but does not use, with why.</summary>
    private static readonly Dictionary<string, string> IgnoredSections = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Credentials"] = "is ignored: sinks take their credentials from their own keys or the standard AWS chain",
        ["Plugins"] = "is ignored: SessionTrail loads no plugin assemblies (its source and sink types are built in)",
        ["Telemetrics"] = "is ignored: SessionTrail sends no telemetry",
        ["SelfUpdate"] = "is ignored: SessionTrail does not update itself (deploy a new version instead)",
    };

    private static readonly HashSet<string> CommonSinkKeys = new(StringComparer.OrdinalIgnoreCase) { "Id", "SinkType", "ObjectDecoration", "QueueMaxBytes", "QueueFullPolicy" };

    private static readonly HashSet<string> PipeKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "Id", "SourceRef", "SinkRef", "Type", "FilterPattern", "IgnoreCase", "Multiline", "RightToLeft", "Negate", "Field", "MatchTimeoutMs",
    };

    /// <summary>Reads <paramref name="configFile"/>; a file that is not JSON is one error naming line and column.</summary>
    /// <param name="agentServerUrl">The agent's "Agent:ServerUrl" (a SessionTrail sink without Url needs it).</param>
    /// <param name="getEnvironment">For decoration variables; default the process environment.</param>
    public static LogShippingPlan LoadFile(string configFile, LogPluginRegistry registry, string? agentServerUrl, Func<string, string?>? getEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(configFile);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(configFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failed(configFile, $"{configFile}: cannot be read: {ex.Message}");
        }

        return LoadBytes(bytes, configFile, registry, agentServerUrl, getEnvironment);
    }

    /// <summary>As <see cref="LoadFile"/> for the file's content; <paramref name="fileName"/> names it in messages.</summary>
    public static LogShippingPlan LoadBytes(byte[] json, string fileName, LogPluginRegistry registry, string? agentServerUrl, Func<string, string?>? getEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        json = ConfigJson.Normalize(json, out _);
        if (CheckJson(json, fileName) is { } problem)
        {
            return new LogShippingPlan([], [], [], [problem]);
        }

        IConfiguration configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(json)).Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or JsonException)
        {
            return Failed(fileName, $"{fileName}: {ex.Message}");
        }

        return Load(configuration, registry, agentServerUrl, getEnvironment);
    }

    /// <summary>Reads the sections of an already parsed configuration.</summary>
    public static LogShippingPlan Load(IConfiguration configuration, LogPluginRegistry registry, string? agentServerUrl, Func<string, string?>? getEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(registry);
        var problems = new List<ConfigProblem>();
        foreach (var section in configuration.GetChildren())
        {
            if (IgnoredSections.TryGetValue(section.Key, out var why))
            {
                problems.Add(Warning(section.Key, $"Config '{section.Key}' {why}."));
            }
        }

        // Ids of entries that have an error of their own: a pipe naming one gets no second "dangling" error.
        var broken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var sources = ReadSources(configuration, registry, problems, broken);
        var sinks = ReadSinks(configuration, registry, agentServerUrl, getEnvironment, problems, broken);
        var pipes = ReadPipes(configuration, sources, sinks, problems, broken);

        foreach (var source in sources.Where(s => !pipes.Any(p => string.Equals(p.SourceRef, s.Id, StringComparison.OrdinalIgnoreCase))))
        {
            problems.Add(Warning(source.Config.Path, $"Config '{source.Config.Path}' (source '{source.Id}') is named by no pipe's SourceRef: it is not started."));
        }

        foreach (var sink in sinks.Where(s => !s.IsAgentServer && !pipes.Any(p => string.Equals(p.SinkRef, s.Id, StringComparison.OrdinalIgnoreCase))))
        {
            problems.Add(Warning(sink.Config.Path, $"Config '{sink.Config.Path}' (sink '{sink.Id}') is named by no pipe's SinkRef: it receives nothing."));
        }

        return new LogShippingPlan(sources, sinks, pipes, problems);
    }

    private static List<LogSourcePlan> ReadSources(IConfiguration configuration, LogPluginRegistry registry, List<ConfigProblem> problems, HashSet<string> broken)
    {
        var result = new List<LogSourcePlan>();
        foreach (var node in Entries(configuration, "Sources", problems))
        {
            var id = Try(problems, () => node.Required("Id"));
            var type = Try(problems, () => node.Required("SourceType"));
            if (type is not null && registry.Source(type) is null)
            {
                problems.Add(Error(node.KeyPath("SourceType"), $"'{type}' is not a known source type (known: {Known(registry.SourceTypes)})"));
                type = null;
            }

            if (id is null || type is null)
            {
                if (id is not null)
                {
                    broken.Add("source:" + id);
                }

                continue;
            }

            if (result.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase)) is { } first)
            {
                problems.Add(Error(node.KeyPath("Id"), $"'{id}' is already the Id of {first.Config.Path}; source Ids must be unique (they name the bookmarks)"));
                continue;
            }

            result.Add(new LogSourcePlan(id, registry.Source(type)!.SourceType, node));
        }

        return result;
    }

    private static List<LogSinkPlan> ReadSinks(IConfiguration configuration, LogPluginRegistry registry, string? agentServerUrl, Func<string, string?>? env, List<ConfigProblem> problems, HashSet<string> broken)
    {
        var result = new List<LogSinkPlan>();
        var dataLakeNames = new List<(string Name, string Path)>();
        foreach (var node in Entries(configuration, "Sinks", problems))
        {
            var hasSinkType = node.Has("SinkType");
            if (!hasSinkType)
            {
                // A data-lake sink ("Type": "S3"), read by SinkConfiguration; remember its queue name.
                dataLakeNames.Add((node.Section["Name"] ?? "s3", node.Path));
                continue;
            }

            if (node.Has("Type"))
            {
                problems.Add(Error(node.Path, "has both \"SinkType\" (a log sink) and \"Type\" (the data-lake S3 sink); keep one"));
                continue;
            }

            var errorsBefore = problems.Count(p => p.IsError);
            var id = Try(problems, () => node.Required("Id"));
            var type = Try(problems, () => node.Required("SinkType"));
            ILogSinkFactory? factory = null;
            var builtIn = type is not null && string.Equals(type, SessionTrailSinkType.Name, StringComparison.OrdinalIgnoreCase);
            if (type is not null && !builtIn && (factory = registry.Sink(type)) is null)
            {
                problems.Add(Error(node.KeyPath("SinkType"), $"'{type}' is not a known sink type (known: {Known(registry.SinkTypes)})"));
                type = null;
            }

            var decoration = Try(problems, () => node.Optional("ObjectDecoration") is { } text ? ObjectDecoration.Parse(text, node.KeyPath("ObjectDecoration"), env) : null);
            if (node.Has("ObjectDecorationEx"))
            {
                problems.Add(Warning(node.KeyPath("ObjectDecorationEx"), $"Config '{node.KeyPath("ObjectDecorationEx")}' is not supported (its expressions are not evaluated) and is ignored; use ObjectDecoration."));
            }

            var maxBytes = Try(problems, () => node.Has("QueueMaxBytes") ? node.Long("QueueMaxBytes", 0, 64 * 1024) : (long?)null);
            var policy = Try(problems, () => node.OneOf("QueueFullPolicy", nameof(QueueFullPolicy.Block), Enum.GetNames<QueueFullPolicy>()));
            SessionTrailSinkType? server = null;
            if (builtIn)
            {
                server = ReadSessionTrailSink(node, agentServerUrl, problems);
            }

            if (id is null || type is null || (builtIn && server is null) || problems.Count(p => p.IsError) > errorsBefore)
            {
                if (id is not null)
                {
                    broken.Add("sink:" + id);
                }

                continue;
            }

            var plan = new LogSinkPlan(id, builtIn ? SessionTrailSinkType.Name : factory!.SinkType, node, decoration, maxBytes, policy is null ? QueueFullPolicy.Block : Enum.Parse<QueueFullPolicy>(policy))
            {
                SessionTrail = server,
            };
            if (!plan.IsAgentServer && !IsFolderName(id))
            {
                problems.Add(Error(node.KeyPath("Id"), $"'{id}' must be letters, digits, '-', '_' or '.' (it names the sink's queue folder)"));
                continue;
            }

            if (result.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase)) is { } first)
            {
                problems.Add(Error(node.KeyPath("Id"), $"'{id}' is already the Id of {first.Config.Path}; sink Ids must be unique"));
                continue;
            }

            if (plan.IsAgentServer && result.FirstOrDefault(s => s.IsAgentServer) is { } other)
            {
                problems.Add(Error(node.Path, $"is a second SessionTrail sink without Url and Token ({other.Config.Path} already is the agent's server sink); point both pipes at '{other.Id}'"));
                continue;
            }

            if (!plan.IsAgentServer && (string.Equals(id, "server", StringComparison.OrdinalIgnoreCase) || dataLakeNames.Any(d => string.Equals(d.Name, id, StringComparison.OrdinalIgnoreCase))))
            {
                problems.Add(Error(node.KeyPath("Id"), $"'{id}' is already the queue name of the agent's {(string.Equals(id, "server", StringComparison.OrdinalIgnoreCase) ? "server sink" : "data-lake sink")}; choose another Id"));
                continue;
            }

            result.Add(plan);
        }

        return result;
    }

    private static SessionTrailSinkType? ReadSessionTrailSink(ConfigNode node, string? agentServerUrl, List<ConfigProblem> problems)
    {
        foreach (var key in node.Keys.Where(k => !CommonSinkKeys.Contains(k) && !SessionTrailSinkType.Keys.Contains(k)))
        {
            problems.Add(Warning(node.KeyPath(key), $"Config '{node.KeyPath(key)}' is not a key of a SessionTrail sink and is ignored."));
        }

        var url = Try(problems, () => node.Optional("Url"), out var urlFailed);
        var token = Try(problems, () => node.Optional("Token"), out var tokenFailed);
        if (urlFailed || tokenFailed)
        {
            return null;
        }

        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            problems.Add(Error(node.KeyPath("Url"), $"'{url}' is not an http(s) URL"));
            return null;
        }

        if (url is null && string.IsNullOrWhiteSpace(agentServerUrl))
        {
            problems.Add(Error(node.KeyPath("Url"), "is required: the agent has no server (\"Agent\": { \"ServerUrl\" } is empty)"));
            return null;
        }

        return new SessionTrailSinkType(url, token);
    }

    private static List<LogPipePlan> ReadPipes(IConfiguration configuration, List<LogSourcePlan> sources, List<LogSinkPlan> sinks, List<ConfigProblem> problems, HashSet<string> broken)
    {
        var result = new List<LogPipePlan>();
        foreach (var node in Entries(configuration, "Pipes", problems))
        {
            foreach (var key in node.Keys.Where(k => !PipeKeys.Contains(k)))
            {
                problems.Add(Warning(node.KeyPath(key), $"Config '{node.KeyPath(key)}' is not a pipe key and is ignored."));
            }

            var id = Try(problems, () => node.Required("Id"));
            var sourceRef = Try(problems, () => node.Required("SourceRef"));
            var sinkRef = Try(problems, () => node.Required("SinkRef"));
            var type = Try(problems, () => node.Optional("Type"), out var typeFailed) ?? "";
            var ok = id is not null && sourceRef is not null && sinkRef is not null && !typeFailed;
            if (sourceRef is not null && !sources.Any(s => string.Equals(s.Id, sourceRef, StringComparison.OrdinalIgnoreCase)))
            {
                ok = false;
                if (!broken.Contains("source:" + sourceRef))
                {
                    problems.Add(Error(node.KeyPath("SourceRef"), $"'{sourceRef}' names no source{Named(sources.Select(s => s.Id))}"));
                }
            }

            if (sinkRef is not null && !sinks.Any(s => string.Equals(s.Id, sinkRef, StringComparison.OrdinalIgnoreCase)))
            {
                ok = false;
                if (!broken.Contains("sink:" + sinkRef))
                {
                    problems.Add(Error(node.KeyPath("SinkRef"), $"'{sinkRef}' names no log sink (\"SinkType\" entry of \"Sinks\"){Named(sinks.Select(s => s.Id))}"));
                }
            }

            RegexFilterPipe? filter = null;
            if (string.Equals(type, RegexFilterPipe.TypeName, StringComparison.OrdinalIgnoreCase))
            {
                filter = ReadFilter(node, problems);
                ok &= filter is not null;
            }
            else if (type.Length > 0)
            {
                problems.Add(Error(node.KeyPath("Type"), $"'{type}' is not a known pipe type (known: {RegexFilterPipe.TypeName}, or no Type to connect directly)"));
                ok = false;
            }
            else
            {
                foreach (var key in new[] { "FilterPattern", "Negate", "Field" }.Where(node.Has))
                {
                    problems.Add(Warning(node.KeyPath(key), $"Config '{node.KeyPath(key)}' is ignored: the pipe has no \"Type\": \"{RegexFilterPipe.TypeName}\"."));
                }
            }

            if (!ok)
            {
                continue;
            }

            if (result.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.OrdinalIgnoreCase)) is { } first)
            {
                problems.Add(Warning(node.KeyPath("Id"), $"Config '{node.KeyPath("Id")}' '{id}' is also the Id of {first.Path}; both pipes are used (pipe Ids should be unique)."));
            }

            var source = sources.First(s => string.Equals(s.Id, sourceRef, StringComparison.OrdinalIgnoreCase));
            var sink = sinks.First(s => string.Equals(s.Id, sinkRef, StringComparison.OrdinalIgnoreCase));
            result.Add(new LogPipePlan(id!, node.Path, source.Id, sink.Id, filter is null ? "" : RegexFilterPipe.TypeName, filter));
        }

        return result;
    }

    private static RegexFilterPipe? ReadFilter(ConfigNode node, List<ConfigProblem> problems)
    {
        var pattern = Try(problems, () => node.Required("FilterPattern"));
        var flags = Try(problems, () => (
            IgnoreCase: node.Bool("IgnoreCase", false),
            Multiline: node.Bool("Multiline", false),
            RightToLeft: node.Bool("RightToLeft", false),
            Negate: node.Bool("Negate", false),
            Field: node.Optional("Field"),
            Timeout: node.Milliseconds("MatchTimeoutMs", RegexFilterPipe.DefaultMatchTimeout, TimeSpan.FromMilliseconds(1))));
        if (pattern is null || flags.Timeout == TimeSpan.Zero)
        {
            return null;
        }

        try
        {
            return new RegexFilterPipe(pattern, flags.IgnoreCase, flags.Multiline, flags.RightToLeft, flags.Negate, flags.Field, flags.Timeout);
        }
        catch (ArgumentException ex)
        {
            problems.Add(Error(node.KeyPath("FilterPattern"), $"is not a valid regular expression: {ex.Message}"));
            return null;
        }
    }

    /// <summary>The entries of a top-level list, as nodes "NAME:i"; a section that is not a list is an error.</summary>
    private static List<ConfigNode> Entries(IConfiguration configuration, string name, List<ConfigProblem> problems)
    {
        var section = configuration.GetSection(name);
        var result = new List<ConfigNode>();
        if (!section.Exists())
        {
            return result;
        }

        var children = section.GetChildren().ToList();
        if (children.Count == 0 || children.Any(c => !int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            if (section.Value is { Length: > 0 } || children.Count > 0)
            {
                problems.Add(Error(name, "must be a list, e.g. [ { \"Id\": ... } ]"));
            }

            return result;
        }

        foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
        {
            var node = new ConfigNode(child, name + ":" + child.Key);
            if (!child.GetChildren().Any())
            {
                problems.Add(Error(node.Path, "must be an object { \"Id\": ..., ... }"));
                continue;
            }

            result.Add(node);
        }

        return result;
    }

    /// <summary>Null when <paramref name="json"/> parses; else the one problem, naming line and column.</summary>
    /// <remarks>Give it <see cref="ConfigJson.Normalize"/>d bytes (non-breaking spaces are otherwise errors).</remarks>
    public static ConfigProblem? CheckJson(byte[] json, string fileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        var body = json.AsSpan();
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            while (reader.Read())
            {
            }

            return null;
        }
        catch (JsonException ex)
        {
            var text = Encoding.UTF8.GetString(body);
            if (FindTypographicQuote(text) is { } typo)
            {
                return Failed(fileName, $"{fileName}:{typo.Line}:{typo.Column}: '{typo.Quote}' is a typographic quote (as copied from a web page or a word processor); JSON needs straight quotes: replace every “ ” ‘ ’ with \"").Problems[0];
            }

            var line = (ex.LineNumber ?? 0) + 1;
            var column = CharColumn(text, (int)(ex.LineNumber ?? 0), (int)(ex.BytePositionInLine ?? 0)) + 1;
            var reason = ex.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
            {
                reason = reason[..cut].TrimEnd();
            }

            return Failed(fileName, $"{fileName}:{line}:{column}: not valid JSON: {reason}").Problems[0];
        }
    }

    /// <summary>The first typographic quote outside a JSON string (where it breaks the JSON), 1-based.</summary>
    private static (int Line, int Column, char Quote)? FindTypographicQuote(string text)
    {
        (int, int, char)? found = null;
        ConfigJson.ForEachOutsideStrings(text, (_, line, column, c) =>
        {
            if (c is '\u201C' or '\u201D' or '\u201E' or '\u201F' or '\u2018' or '\u2019' or '\u2033')
            {
                found = (line, column, c);
                return false;
            }

            return true;
        });
        return found;
    }

    private static int CharColumn(string text, int lineIndex, int bytePosition)
    {
        var lines = text.Split('\n');
        if (lineIndex >= lines.Length)
        {
            return bytePosition;
        }

        var bytes = Encoding.UTF8.GetBytes(lines[lineIndex]);
        return Encoding.UTF8.GetCharCount(bytes, 0, Math.Min(bytePosition, bytes.Length));
    }

    private static bool IsFolderName(string id) =>
        id.Length > 0 && !id.StartsWith('.') && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static string Known(IReadOnlyList<string> names) => names.Count == 0 ? "none registered" : string.Join(", ", names);

    private static string Named(IEnumerable<string> ids)
    {
        var list = ids.ToList();
        return list.Count == 0 ? " (there are none)" : $" (known: {string.Join(", ", list)})";
    }

    private static T? Try<T>(List<ConfigProblem> problems, Func<T> read) => Try(problems, read, out _);

    private static T? Try<T>(List<ConfigProblem> problems, Func<T> read, out bool failed)
    {
        try
        {
            failed = false;
            return read();
        }
        catch (LogConfigException ex)
        {
            problems.Add(new ConfigProblem(ConfigProblemSeverity.Error, ex.Path, ex.Message));
            failed = true;
            return default;
        }
    }

    private static ConfigProblem Error(string path, string problem) => new(ConfigProblemSeverity.Error, path, new LogConfigException(path, problem).Message);

    private static ConfigProblem Warning(string path, string message) => new(ConfigProblemSeverity.Warning, path, message);

    private static LogShippingPlan Failed(string path, string message) => new([], [], [], [new ConfigProblem(ConfigProblemSeverity.Error, path, message)]);
}
