using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SessionTrail.Server;

/// <summary>
/// Turns a <see cref="JsonException"/> about a request body into the <c>{"error"}</c> text of a 400: what is wrong,
/// in the client's terms (the field as the JSON names it, the JSON type expected — never a .NET type name),
/// and where (line and byte, 1-based). E.g. <c>body: field 'disabled': expected true or false, got a string (line 1, byte 18)</c>,
/// <c>body: not valid JSON: 'tru' is an invalid JSON literal, expected the literal 'true' (line 1, byte 10)</c>.
/// </summary>
internal static partial class JsonBodyProblem
{
    /// <summary>The text for <paramref name="ex"/>; <paramref name="expected"/> describes the whole body (default "a JSON object").</summary>
    public static string Describe(JsonException ex, string? expected = null)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var where = ex.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})")
            : "";
        var path = ex.Path is null or "$" ? null : ex.Path.StartsWith("$.", StringComparison.Ordinal) ? ex.Path[2..] : ex.Path;
        if (Conversion().IsMatch(ex.Message))
        {
            // The reader's inner exception says which JSON token came and what was asked for; the outer message
            // names a .NET type (often the containing record's, not the field's).
            if (path is null)
            {
                return $"body: expected {expected ?? "a JSON object"}{where}";
            }

            return ex.InnerException is { } inner && TokenMismatch().Match(inner.Message) is { Success: true } mismatch
                ? $"body: field '{path}': expected {Wanted(mismatch.Groups["want"].Value)}, got {Token(mismatch.Groups["got"].Value)}{where}"
                : $"body: field '{path}': wrong type{where}";
        }

        if (ex.Message.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal))
        {
            return $"body: expected {expected ?? "a JSON object"}, got an empty body";
        }

        // The reader's own sentence without the "Path: … | LineNumber: …" tail it appends.
        var text = ex.Message;
        foreach (var tail in new[] { " Path: ", " LineNumber: " })
        {
            var cut = text.IndexOf(tail, StringComparison.Ordinal);
            if (cut >= 0)
            {
                text = text[..cut];
            }
        }

        text = text.Trim().TrimEnd('.').Replace(". ", ", ", StringComparison.Ordinal);
        var at = path is null ? "" : $" at field '{path}'";
        return $"body: not valid JSON{at}: {FirstLower(text)}{where}";
    }

    private static string FirstLower(string text) =>
        text.Length > 1 && char.IsUpper(text[0]) && char.IsLower(text[1]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;

    private static string Wanted(string want) => want switch
    {
        "boolean" => "true or false",
        "string" => "a string",
        "number" => "a number",
        _ => "a " + want,
    };

    private static string Token(string token) => token switch
    {
        "Number" => "a number",
        "String" => "a string",
        "True" or "False" => token.ToLowerInvariant(),
        "Null" => "null",
        "StartArray" => "an array",
        "StartObject" => "an object",
        _ => token,
    };

    [GeneratedRegex(@"^The JSON value could not be converted to ")]
    private static partial Regex Conversion();

    [GeneratedRegex(@"Cannot get the value of a token type '(?<got>\w+)' as a (?<want>\w+)")]
    private static partial Regex TokenMismatch();
}
