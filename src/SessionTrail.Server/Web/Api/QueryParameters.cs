using System.Globalization;
using Microsoft.AspNetCore.Http;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Web.Api;

/// <summary>
/// Reads a request's query string for the web UI endpoints. Every reader answers for any input: an absent or
/// empty parameter is "not given"; a repeated one or a bad value records the first problem, which
/// <see cref="Error"/> then holds as a 400 naming the parameter (<c>{"error":"parameter 'x': …","parameter":"x"}</c>).
/// </summary>
internal sealed class QueryParameters(HttpContext http)
{
    /// <summary>The 400 of the first bad parameter, or null when all were fine.</summary>
    public IResult? Error { get; private set; }

    /// <summary>The value of <paramref name="name"/>; null when absent or empty.</summary>
    public string? Text(string name)
    {
        var values = http.Request.Query[name];
        if (values.Count > 1)
        {
            Fail(name, $"given {values.Count} times; give it once");
            return null;
        }

        return values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
    }

    /// <summary>An ISO-8601 date or time (see <see cref="ReportsApi.TryParseTime"/>).</summary>
    public DateTimeOffset? Time(string name)
    {
        var text = Text(name);
        if (!ReportsApi.TryParseTime(text, out var time))
        {
            Fail(name, $"expected an ISO-8601 date or time (e.g. 2026-11-01 or 2026-11-01T08:00:00Z), got '{Shown(text)}'");
        }

        return time;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="fallback"/> when not given.</summary>
    public int Int(string name, int fallback, int min, int max)
    {
        var text = Text(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Fail(name, $"expected a whole number from {min} to {max}, got '{Shown(text)}'");
            return fallback;
        }

        return value;
    }

    /// <summary>true or false; null when not given.</summary>
    public bool? Bool(string name) => Choice(name, "true", "false") switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

    /// <summary>One of <paramref name="allowed"/> (exactly); null when not given.</summary>
    public string? Choice(string name, params string[] allowed)
    {
        var text = Text(name);
        if (text is not null && !allowed.Contains(text, StringComparer.Ordinal))
        {
            Fail(name, $"expected one of {string.Join(", ", allowed)}, got '{Shown(text)}'");
            return null;
        }

        return text;
    }

    /// <summary>The dashboard's shared filters: from, to, user, fleet, stack.</summary>
    public ReportFilter Filter() => new(Time("from"), Time("to"), Text("user"), Fleet: Text("fleet"), Stack: Text("stack"));

    private void Fail(string name, string problem) => Error ??= LogsApi.Bad(name, problem);

    private static string Shown(string? text)
    {
        var shown = text is null ? "" : text.Length > 60 ? text[..60] + "…" : text;
        return new string([.. shown.Select(c => char.IsControl(c) ? '?' : c)]);
    }
}
