using System.Runtime.CompilerServices;
using System.Text;

namespace SessionTrail.TestKit;

/// <summary>
/// Approval files: a shipped contract (a wire format, a report, a config file we generate) is compared with a
/// checked-in expected file under tests/approvals/. On a mismatch the output is written beside it as
/// <c>NAME.received.EXT</c> and the test fails naming both files; run the tests again with
/// <c>SESSIONTRAIL_APPROVE=1</c> to accept the output (the expected file is rewritten), then review the diff.
/// The comparison is exact, line endings included (the seed's CSV ends its lines with "\r\n"; tests/approvals/.gitattributes
/// keeps git from converting them); the files are UTF-8 without a BOM.
/// </summary>
public static class Approvals
{
    /// <summary>The environment variable that accepts the received output as the new expected file.</summary>
    public const string ApproveVariable = "SESSIONTRAIL_APPROVE";

    /// <summary>The folder of the approval files (tests/approvals in the repository).</summary>
    public static string Folder { get; } = Path.Combine(Repository.Root, "tests", "approvals");

    /// <summary>
    /// Compares <paramref name="received"/> with tests/approvals/<paramref name="name"/> (a relative path with its
    /// extension, e.g. "ndjson/process-start.ndjson"); throws <see cref="ApprovalException"/> when they differ.
    /// </summary>
    public static void Verify(string received, string name)
    {
        ArgumentNullException.ThrowIfNull(received);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var expectedPath = Path.GetFullPath(Path.Combine(Folder, name));
        var receivedPath = ReceivedPath(expectedPath);
        var text = received;
        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(expectedPath)!);
            File.WriteAllText(expectedPath, text, Utf8);
            File.Delete(receivedPath);
            return;
        }

        var expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath, Utf8) : null;
        if (expected == text)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, text, Utf8);
        throw new ApprovalException(Describe(name, expectedPath, receivedPath, expected, text));
    }

    /// <summary>NAME.received.EXT beside NAME.EXT.</summary>
    public static string ReceivedPath(string expectedPath)
    {
        ArgumentNullException.ThrowIfNull(expectedPath);
        var extension = Path.GetExtension(expectedPath);
        return Path.Combine(Path.GetDirectoryName(expectedPath)!, Path.GetFileNameWithoutExtension(expectedPath) + ".received" + extension);
    }

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static string Describe(string name, string expectedPath, string receivedPath, string? expected, string received)
    {
        var message = new StringBuilder();
        if (expected is null)
        {
            message.Append($"approval file {name} does not exist; the output is in {receivedPath}.");
        }
        else
        {
            var e = expected.Split('\n');
            var r = received.Split('\n');
            var line = 0;
            while (line < e.Length && line < r.Length && e[line] == r[line])
            {
                line++;
            }

            var endings = line < e.Length && line < r.Length && e[line].TrimEnd('\r') == r[line].TrimEnd('\r') ? " (line endings)" : "";
            message.Append($"output differs from approval file {name} at line {line + 1}{endings}:\n");
            message.Append($"  expected: {(line < e.Length ? e[line] : "(end of file)")}\n");
            message.Append($"  received: {(line < r.Length ? r[line] : "(end of file)")}\n");
        }

        message.Append($"\nsee the whole difference: diff {expectedPath} {receivedPath}\n");
        message.Append($"if the change is meant, accept it: {ApproveVariable}=1 dotnet test ... (then review git diff tests/approvals)");
        return message.ToString();
    }
}

/// <summary>The output of a test differs from its approval file (see <see cref="Approvals"/>).</summary>
public sealed class ApprovalException(string message) : Exception(message);
