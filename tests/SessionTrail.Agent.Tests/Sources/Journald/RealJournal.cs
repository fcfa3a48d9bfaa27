using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sources.Journald;

/// <summary>
/// Real systemd journal files for the tests: entries in the Journal Export Format piped into Debian's
/// <c>systemd-journal-remote --output=DIR/test.journal -</c> (which appends to the file when it exists), read
/// back by the real <c>journalctl --directory=DIR</c>. <c>.ci/run</c> installs both (systemd,
/// systemd-journal-remote); without them the tests fail and say so.
/// </summary>
internal sealed class RealJournal(string directory)
{
    public const string Remote = "/lib/systemd/systemd-journal-remote";
    public const string BootId = "0123456789abcdef0123456789abcdef";
    public static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);
    private int _written;

    public string Directory { get; } = directory;

    public string File => Path.Combine(Directory, "test.journal");

    /// <summary>One entry: (name, text) or (name, bytes) fields, written in this order; repeated names repeat the field.</summary>
    public sealed record Entry(params (string Name, object Value)[] Fields);

    /// <summary>Time of the n-th entry written (0-based): T0 + n seconds.</summary>
    public static DateTimeOffset TimeOf(int n) => T0.AddSeconds(n);

    /// <summary>Appends entries to the journal file with systemd-journal-remote.</summary>
    public void Append(params Entry[] entries)
    {
        Assert.True(System.IO.File.Exists(Remote), $"{Remote} not found: install Debian's systemd-journal-remote (.ci/run does)");
        System.IO.Directory.CreateDirectory(Directory);
        var export = new MemoryStream();
        foreach (var entry in entries)
        {
            var n = _written++;
            var micros = (TimeOf(n) - DateTimeOffset.UnixEpoch).Ticks / 10;
            Text(export, "__REALTIME_TIMESTAMP", micros.ToString(CultureInfo.InvariantCulture));
            Text(export, "__MONOTONIC_TIMESTAMP", (1_000_000L + n * 1_000_000L).ToString(CultureInfo.InvariantCulture));
            Text(export, "_BOOT_ID", BootId);
            foreach (var (name, value) in entry.Fields)
            {
                if (value is byte[] bytes)
                {
                    Binary(export, name, bytes);
                }
                else
                {
                    Text(export, name, (string)value);
                }
            }

            export.WriteByte((byte)'\n');
        }

        var start = new ProcessStartInfo(Remote) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("--output=" + File);
        start.ArgumentList.Add("-");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.BaseStream.Write(export.ToArray());
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(30_000), "systemd-journal-remote did not finish");
        Assert.True(process.ExitCode == 0, $"systemd-journal-remote failed: {stderr.Result}");
    }

    /// <summary>Every entry's cursor, read independently of the JSON output: <c>journalctl -o export</c>.</summary>
    public IReadOnlyList<string> Cursors()
    {
        var start = new ProcessStartInfo("journalctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--directory=" + Directory, "--output=export", "--no-pager", "--lines=all" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        return [.. Encoding.Latin1.GetString(output.ToArray()).Split('\n').Where(l => l.StartsWith("__CURSOR=", StringComparison.Ordinal)).Select(l => l["__CURSOR=".Length..])];
    }

    /// <summary>A simple text entry.</summary>
    public static Entry Simple(string message, string identifier = "app", string priority = "6", string? unit = null) =>
        unit is null
            ? new Entry(("MESSAGE", message), ("PRIORITY", priority), ("SYSLOG_IDENTIFIER", identifier), ("_HOSTNAME", "jhost"))
            : new Entry(("MESSAGE", message), ("PRIORITY", priority), ("SYSLOG_IDENTIFIER", identifier), ("_SYSTEMD_UNIT", unit), ("_HOSTNAME", "jhost"));

    private static void Text(Stream s, string name, string value) => s.Write(Encoding.UTF8.GetBytes(name + "=" + value + "\n"));

    private static void Binary(Stream s, string name, byte[] value)
    {
        s.Write(Encoding.UTF8.GetBytes(name + "\n"));
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)value.Length);
        s.Write(length);
        s.Write(value);
        s.WriteByte((byte)'\n');
    }
}
