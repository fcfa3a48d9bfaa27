using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SessionTrail.Cli.Output;
using SessionTrail.Cli.Recordings;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail recordings list|verify|export|hold SESSION`: a session's screen recording on a server.</summary>
internal static class RecordingsCommand
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create() => new("recordings", "Session screen recordings kept by a server: list, verify (hashes, chain, signed manifest), export, legal hold.")
    {
        List(), Verify(), Export(), Hold(),
    };

    private static Argument<string> SessionArgument() => new("SESSION") { Description = "The session id." };

    private static Command List()
    {
        var session = SessionArgument();
        var format = new Option<string>("--format") { Description = "table (for people) or json (exactly the API's JSON).", DefaultValueFactory = _ => "table", HelpName = "table|json" };
        format.AcceptOnlyFromAmong("table", "json");
        var data = CommonOptions.Data();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var command = new Command(
            "list",
            """
            The segments of a session's recording with their state (complete, uploading, awaiting-bytes,
            awaiting-record, missing, altered, chain-broken, deleted), the chain verdict and the legal hold.
            Asks a server (--server URL --token T) or reads a local server's data directory (--data DIR).
            """)
        {
            session, format, data, server, token,
        };
        command.SetAction((parse, ct) => Failure.GuardAsync("recordings list", async () =>
        {
            var id = parse.GetValue(session)!;
            JsonElement listing;
            if (parse.GetValue(server) is { } url)
            {
                using var client = new RecordingsClient(url, parse.GetValue(token));
                listing = await client.ListAsync(id, ct) ?? throw new ArgumentException($"the server has no recording of session '{id}'");
            }
            else
            {
                listing = await LocalListingAsync(CommonOptions.FullData(parse.GetValue(data)!), id, ct);
            }

            Render(listing, parse.GetValue(format) == "json", Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var session = new Argument<string?>("SESSION") { Description = "The session id (not with --dir).", Arity = ArgumentArity.ZeroOrOne };
        var exported = new Option<string?>("--dir") { Description = "Verify an export folder offline instead of a server's recording.", HelpName = "DIR" };
        var publicKey = PublicKeyOption();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var command = new Command(
            "verify",
            """
            Downloads every segment from the server (each download is in the server's access audit log),
            recomputes its SHA-256, checks it against its record and the manifest, checks every chain link,
            and checks the manifest's signature with the server's public key — or with --public-key FILE
            (pin the key you trust). Prints each problem; exit code 1 on any, 0 when all verified.
            With --dir DIR: verifies an export folder offline (signature, file hashes, chain).
            """)
        {
            session, exported, publicKey, server, token,
        };
        command.SetAction((parse, ct) => Failure.GuardAsync("recordings verify", async () =>
        {
            var key = ReadKey(parse.GetValue(publicKey));
            if (parse.GetValue(exported) is { } dir)
            {
                var offline = await RecordingVerifier.VerifyExportAsync(Path.GetFullPath(dir), key, ct);
                return Report(offline, key is null, "verified export");
            }

            using var client = Client(parse.GetValue(server), parse.GetValue(token));
            var id = parse.GetValue(session) ?? throw new ArgumentException("give the SESSION to verify (or --dir DIR for an export folder)");
            var result = await new RecordingVerifier(client).RunAsync(id, key, null, ct);
            return Report(result, key is null, "verified");
        }));
        return command;
    }

    private static Command Export()
    {
        var session = SessionArgument();
        var output = new Option<string>("--out") { Description = "Folder to write the segments, SHA256SUMS, SHA256SUMS.sig, recording-public-key.pem and recording.json to.", Required = true, HelpName = "DIR" };
        var single = new Option<bool>("--single") { Description = "Also join the segments into one progressive MP4 (recording.mp4) with ffmpeg (stream copy, +faststart), when they share one geometry." };
        var publicKey = PublicKeyOption();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var command = new Command(
            "export",
            """
            Writes a session's recording to a folder, verifying as it goes (as `verify` does): the segments
            (000000.mp4, …), the signed manifest (SHA256SUMS + SHA256SUMS.sig; `sha256sum -c SHA256SUMS` checks
            the files), the public key and the listing. Every segment download is audited as an export.
            Exit code 1 when anything did not verify (what could be downloaded is still written).
            """)
        {
            session, output, single, publicKey, server, token,
        };
        command.SetAction((parse, ct) => Failure.GuardAsync("recordings export", async () =>
        {
            using var client = Client(parse.GetValue(server), parse.GetValue(token));
            var dir = Path.GetFullPath(parse.GetValue(output)!);
            var result = await new RecordingVerifier(client).RunAsync(parse.GetValue(session)!, ReadKey(parse.GetValue(publicKey)), dir, ct);
            var code = Report(result, parse.GetValue(publicKey) is null, $"exported to {dir}");
            if (parse.GetValue(single))
            {
                code = Math.Max(code, await JoinAsync(result.Listing, dir, ct));
            }

            return code;
        }));
        return command;
    }

    private static Command Hold()
    {
        var session = SessionArgument();
        var release = new Option<bool>("--release") { Description = "Lift the hold instead of putting it." };
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var command = new Command(
            "hold",
            "Puts a session's recording on legal hold (retention does not delete it), or lifts the hold with --release. Audited.")
        {
            session, release, server, token,
        };
        command.SetAction((parse, ct) => Failure.GuardAsync("recordings hold", async () =>
        {
            using var client = Client(parse.GetValue(server), parse.GetValue(token));
            var answer = await client.HoldAsync(parse.GetValue(session)!, !parse.GetValue(release), ct);
            var on = answer.GetProperty("hold").GetBoolean();
            Console.WriteLine(on
                ? $"hold: on since {answer.GetProperty("since").GetString()} (by {answer.GetProperty("by").GetString()})"
                : "hold: off");
            return 0;
        }));
        return command;
    }

    private static Option<string?> PublicKeyOption() => new("--public-key")
    {
        Description = "PEM public key to check the manifest signature with, instead of the one the server presents.",
        HelpName = "FILE",
    };

    private static RecordingsClient Client(string? url, string? token) =>
        new(url ?? throw new ArgumentException("--server URL is required (verify, export and hold go through the server's audited API)"), token);

    private static string? ReadKey(string? path) => path is null ? null : File.ReadAllText(path);

    private static int Report(VerifyResult result, bool serverKey, string success)
    {
        foreach (var problem in result.Problems)
        {
            Console.Error.WriteLine(problem);
        }

        if (result.Problems.Count > 0)
        {
            Console.Error.WriteLine($"NOT verified: {result.Problems.Count} problem(s) in {result.Segments} segments");
            return Failure.ExitCode;
        }

        foreach (var note in result.Notes ?? [])
        {
            Console.WriteLine("note: " + note);
        }

        Console.WriteLine($"{success}: {result.Segments} segments, chain intact, manifest signature valid (key {result.KeyFingerprint}{(serverKey ? ", not pinned; pin it with --public-key" : ", pinned")})");
        return 0;
    }

    /// <summary>recording.mp4 from the exported segments by ffmpeg's concat demuxer (stream copy); 1 with the reason when it cannot.</summary>
    private static async Task<int> JoinAsync(JsonElement listing, string dir, CancellationToken ct)
    {
        if (RecordingVerifier.WhyNotSingle(listing) is { } why)
        {
            Console.Error.WriteLine($"--single: not joined: {why}");
            return Failure.ExitCode;
        }

        var ffmpeg = FindOnPath("ffmpeg");
        if (ffmpeg is null)
        {
            Console.Error.WriteLine("--single: not joined: ffmpeg is not on PATH (the segments are exported)");
            return Failure.ExitCode;
        }

        var list = Path.Combine(dir, "concat.txt");
        await File.WriteAllLinesAsync(list, RecordingVerifier.WithVideo(listing.GetProperty("segments").EnumerateArray())
            .Select(s => $"file '{RecordingManifest.FileName(s.GetProperty("index").GetInt32())}'"), ct);
        var output = Path.Combine(dir, "recording.mp4");
        var start = new ProcessStartInfo(ffmpeg, ["-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", output])
        {
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            File.Delete(list);
            Console.Error.WriteLine($"--single: not joined: {ffmpeg} could not be started ({ex.Message}); the segments are exported");
            return Failure.ExitCode;
        }

        using var _ = process;
        var error = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        File.Delete(list);
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"--single: ffmpeg exited with {process.ExitCode}: {error.Trim()}");
            return Failure.ExitCode;
        }

        Console.WriteLine($"joined: {output}");
        return 0;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, OperatingSystem.IsWindows() ? name + ".exe" : name))
            .FirstOrDefault(File.Exists);

    /// <summary>The listing from a local server data directory (the database read-only, the bytes in DIR/recordings).</summary>
    internal static async Task<JsonElement> LocalListingAsync(string dir, string session, CancellationToken ct)
    {
        if (!File.Exists(Core.DataDirectory.DatabasePath(dir)))
        {
            throw new FileNotFoundException($"no SessionTrail database in {dir}: give --data DIR of a server, or --server URL");
        }

        using var store = SqliteStore.OpenReadOnly(dir);
        var inspector = new RecordingInspector(new RecordingCatalog(store), new FileSystemRecordingStore(Path.Combine(dir, "recordings")));
        var listing = await inspector.ListAsync(session, false, ct) ?? throw new ArgumentException($"no recording of session '{session}' in {dir}");
        return JsonSerializer.SerializeToElement(listing, Web);
    }

    /// <summary>json: the API's object as is; table: one line per segment, then the chain verdict, problems and hold.</summary>
    internal static void Render(JsonElement listing, bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(listing, Indented));
            return;
        }

        string[] columns = ["index", "state", "start", "end", "size", "bytes", "uploaded", "sha256", "problem"];
        var rows = listing.GetProperty("segments").EnumerateArray().Select(s => new Dictionary<string, string?>
        {
            ["index"] = s.GetProperty("index").GetInt32().ToString(CultureInfo.InvariantCulture),
            ["state"] = s.GetProperty("state").GetString(),
            ["start"] = Str(s, "start"),
            ["end"] = Str(s, "end"),
            ["size"] = s.GetProperty("width").ValueKind == JsonValueKind.Number ? $"{s.GetProperty("width").GetInt32()}x{s.GetProperty("height").GetInt32()}" : null,
            ["bytes"] = s.GetProperty("bytes").ValueKind == JsonValueKind.Number ? s.GetProperty("bytes").GetInt64().ToString(CultureInfo.InvariantCulture) : null,
            ["uploaded"] = s.GetProperty("uploadedBytes").GetInt64().ToString(CultureInfo.InvariantCulture),
            ["sha256"] = Str(s, "sha256") is { } sha ? sha[..12] : null,
            ["problem"] = Str(s, "problem") ?? Str(s, "note"),
        }).ToList();
        ReportRenderer.Render(JsonSerializer.SerializeToElement(rows, Web), columns, ReportFormat.Table, output);
        var chain = listing.GetProperty("chain");
        output.WriteLine(chain.GetProperty("ok").GetBoolean() ? "chain: intact" : "chain: BROKEN");
        foreach (var problem in chain.GetProperty("problems").EnumerateArray())
        {
            output.WriteLine("  " + problem.GetString());
        }

        output.WriteLine($"hold: {(listing.GetProperty("hold").GetBoolean() ? "on" : "off")}{(Str(listing, "deleted") is { } d ? $"; bytes deleted by retention at {d}" : "")}");
        var events = listing.GetProperty("events").GetArrayLength();
        if (events > 0)
        {
            output.WriteLine($"events: {events}");
            foreach (var e in listing.GetProperty("events").EnumerateArray())
            {
                output.WriteLine($"  {Str(e, "time")} {Str(e, "type")} {Str(e, "message")}");
            }
        }
    }

    private static string? Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
