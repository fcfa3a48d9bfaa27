using System.CommandLine;
using System.Globalization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Agent.Status;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail agent`: capture this host's processes and deliver them to a server.</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var batch = new Option<int?>("--batch-max-records")
        {
            Description = "Most records per request to the server (default 5000).",
            HelpName = "N",
        };
        var auditPolicy = new Option<bool>("--enable-audit-policy")
        {
            Description = "Windows: first turn on the audit policy for process creation/termination (4688/4689, by subcategory GUID) and command lines in 4688, then run.",
        };
        var service = new Option<bool>("--service")
        {
            Description = "Windows: run under the Service Control Manager (how deploy/appstream/install.ps1 -Hosting Service starts it). Stop/shutdown flush like Ctrl+C.",
        };
        var serviceName = new Option<string>("--service-name")
        {
            Description = "Windows service name used with --service.",
            DefaultValueFactory = _ => "SessionTrailAgent",
            HelpName = "NAME",
        };
        var record = CommonOptions.Record();
        var group = DataPrivacy.Group();
        var checkConfig = new Option<string?>("--check-config")
        {
            Description = "Check a config file (Agent, Processes, data-lake Sinks, and the log Sources/Sinks/Pipes) without running: print each log source, sink and pipe and every problem with its key path. Exit 0 when it can run, 1 otherwise.",
            HelpName = "FILE",
        };
        var command = new Command(
            "agent",
            """
            Capture every process users start on this host and deliver the records to a SessionTrail
            server. Records wait in a disk queue under DIR/agent until the server has acknowledged them,
            so restarts, crashes and server outages lose nothing. Run as root for kernel capture.
            Ctrl+C (SIGINT/SIGTERM) stops intake, flushes for up to 10 s and keeps the rest on disk.
            """)
        {
            data, config, server, token, batch, auditPolicy, service, serviceName, checkConfig, record, group,
        };
        command.SetAction((parse, stop) => Failure.GuardAsync("agent", async () =>
        {
            var asService = parse.GetValue(service);
            if (asService && !OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("--service is for Windows (the Service Control Manager); on Linux run the agent under systemd (deploy/systemd).");
            }

            using var logs = Logging.Create(agentDiagnostics: true);
            if (parse.GetValue(checkConfig) is { } checkFile)
            {
                var check = AgentRunner.Check(checkFile, Overrides(parse, data, server, token, batch, record), logs);
                PrintCheck(check);
                return check.HasErrors ? Failure.ExitCode : 0;
            }

            if (parse.GetValue(auditPolicy))
            {
                await EnableAuditPolicyAsync(stop);
            }

            var access = DataPrivacy.Use(parse.GetValue(group));
            var runner = AgentRunner.Create(parse.GetValue(config), Overrides(parse, data, server, token, batch, record), logs);
            DataPrivacy.Prepare(access, runner.DataDir, logs.CreateLogger("SessionTrail.DataDirectory"));
            if (asService && OperatingSystem.IsWindows())
            {
                return RunAsService(parse.GetValue(serviceName)!, runner);
            }

            await runner.RunAsync(line => Console.WriteLine($"sessiontrail agent: {line}; data in {runner.DataDir}"), stop);
            Console.WriteLine("sessiontrail agent: stopped");
            return 0;
        }));

        var statusData = CommonOptions.Data();
        var json = new Option<bool>("--json") { Description = "Print the raw status JSON." };
        var status = new Command("status", "Show the running agent's queues, dropped records and recent delivery errors (DIR/agent/status.json).")
        {
            statusData, json,
        };
        status.SetAction((parse, _) => Failure.GuardAsync("agent status", () =>
        {
            var dir = CommonOptions.FullData(parse.GetValue(statusData)!);
            var s = AgentStatus.Read(dir);
            if (s is null)
            {
                Console.Error.WriteLine($"sessiontrail agent status: no status in {AgentStatus.FilePath(dir)} (is an agent running with --data {dir}?)");
                return Task.FromResult(Failure.ExitCode);
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(s.ToJson());
                return Task.FromResult(0);
            }

            var age = DateTimeOffset.UtcNow - s.WrittenAt;
            Console.WriteLine($"agent {s.AgentId}: {s.State} since {s.StartedAt:u} (status written {age.TotalSeconds:F0} s ago)");
            foreach (var sink in s.Sinks)
            {
                var oldest = sink.OldestPendingSeconds is { } pendingFor ? $", oldest {pendingFor.ToString("F0", CultureInfo.InvariantCulture)} s" : "";
                Console.WriteLine($"  sink {sink.Name}{(sink.SinkType is null ? "" : " (" + sink.SinkType + ")")}: {sink.PendingRecords} pending ({sink.PendingBytes} bytes{oldest}), " +
                                  $"{sink.AckedTotal} delivered, {sink.DroppedTotal} dropped, {sink.DeadLetteredTotal} dead-lettered{(sink.Full ? $", QUEUE FULL (policy {sink.QueueFullPolicy})" : "")}");
                if (sink.PendingUploads is { } uploads)
                {
                    Console.WriteLine($"    objects: {sink.OpenObjects} open, {uploads} waiting for upload, {sink.UploadedTotal} uploaded");
                }

                foreach (var e in sink.RecentErrors)
                {
                    Console.WriteLine($"    {e.Time:u} {sink.Name}: {e.Message}");
                }
            }

            foreach (var source in s.Sources)
            {
                Console.WriteLine($"  source {source.Name}{(source.SourceType is null ? "" : " (" + source.SourceType + ")")}: {source.State}, {source.Restarts} restarts{(source.LastError is null ? "" : $", last error {source.LastErrorTime:u}: {source.LastError}")}");
            }

            foreach (var pipe in s.Pipes)
            {
                var counts = pipe.Filter is null ? "" : $" filter /{pipe.Filter}/: {pipe.Passed} passed, {pipe.Blocked} blocked{(pipe.Timeouts > 0 ? $", {pipe.Timeouts} MATCH TIMEOUTS" : "")}";
                Console.WriteLine($"  pipe {pipe.Id}: {pipe.Source} -> {pipe.Sink}{counts}");
            }

            if (s.Recorder is { } rec)
            {
                var segment = rec.SegmentIndex is { } index ? $", segment {index} ({rec.SegmentBytes?.ToString(CultureInfo.InvariantCulture) ?? "?"} bytes{(rec.Width is { } w ? $", {w}x{rec.Height}" : "")})" : "";
                Console.WriteLine($"  recorder: {rec.State}{(rec.Session is null ? "" : ", session " + rec.Session)}{segment}{(rec.FfmpegPid is { } pid ? $", ffmpeg pid {pid}" : "")}{(rec.Backend is { } be ? $" ({be}{(rec.FramesSent is { } sent ? $": {sent} frames sent, {rec.FramesChanged} changed" : "")})" : "")}, {rec.SegmentsClosed} segments closed, {rec.Restarts} restarts");
                if (rec.LastError is { } recError)
                {
                    Console.WriteLine($"    last error {rec.LastErrorTime:u}: {recError}");
                }
            }

            if (s.RecordingUpload is { } up)
            {
                var lag = up.LiveLagSeconds is { } l ? $", live lag {l:F0} s" : "";
                Console.WriteLine($"  recording upload ({up.Upload}): {up.State}{(up.SpoolFull ? " — SPOOL FULL, recording paused" : "")}, {up.PendingSegments} segments ({up.PendingBytes.ToString(CultureInfo.InvariantCulture)} bytes) pending, {up.OpenSegments} open{lag}, {up.UploadedSegmentsTotal} uploaded, spool {up.SpoolBytes.ToString(CultureInfo.InvariantCulture)} of {up.SpoolMaxBytes.ToString(CultureInfo.InvariantCulture)} bytes");
                foreach (var aside in up.SetAside)
                {
                    Console.WriteLine($"    SET ASIDE {aside.Segment} since {aside.Since:u}, {aside.Attempts} attempt(s), next retry {aside.NextRetry:u}: {aside.Reason}");
                }

                if (up.LastError is { } upError)
                {
                    Console.WriteLine($"    last error {up.LastErrorTime:u}: {upError}");
                }
            }

            if (s.Config is { } cfg)
            {
                Console.WriteLine($"  config {cfg.File}: loaded {cfg.LoadedAt:u}, {cfg.Reloads} reloads");
                if (cfg.ReloadError is { } reloadError)
                {
                    Console.WriteLine($"    CONFIG CHANGE REFUSED at {cfg.ReloadErrorTime:u} (the previous config keeps running): {reloadError}");
                }
            }

            return Task.FromResult(0);
        }));
        command.Add(status);
        return command;
    }

    private static Dictionary<string, string?> Overrides(ParseResult parse, Option<string> data, Option<string?> server, Option<string?> token, Option<int?> batch, Option<bool> record) => new()
    {
        ["Recording:Enabled"] = parse.GetValue(record) ? "true" : null,
        ["DataDir"] = CommonOptions.FullData(parse.GetValue(data)!),
        ["ServerUrl"] = parse.GetValue(server),
        ["Token"] = parse.GetValue(token),
        ["BatchMaxRecords"] = parse.GetValue(batch)?.ToString(CultureInfo.InvariantCulture),
    };

    private static void PrintCheck(ConfigCheck check)
    {
        var plan = check.Plan;
        Console.WriteLine($"config {Path.GetFullPath(check.File)}");
        foreach (var source in plan.Sources)
        {
            var pipes = plan.Pipes.Where(p => string.Equals(p.SourceRef, source.Id, StringComparison.OrdinalIgnoreCase)).ToList();
            Console.WriteLine($"  source {source.Id} ({source.SourceType}) at {source.Config.Path}: {(pipes.Count == 0 ? "no pipe, not started" : "to " + string.Join(", ", pipes.Select(p => p.SinkRef).Distinct(StringComparer.OrdinalIgnoreCase)))}");
        }

        foreach (var sink in plan.Sinks)
        {
            var where = sink.SessionTrail is { } st ? (sink.IsAgentServer ? ", the agent's server sink" : $", {st.Url ?? "the agent's server URL"}, own queue") : "";
            var decoration = sink.Decoration is null ? "" : $", decoration: {string.Join(", ", sink.Decoration.Keys)}";
            Console.WriteLine($"  sink {sink.Id} ({sink.SinkType}) at {sink.Config.Path}{where}{decoration}, queue full: {sink.QueueFullPolicy}");
        }

        foreach (var pipe in plan.Pipes)
        {
            var filter = pipe.Filter is null ? "" : $", {(pipe.Filter.Negate ? "not matching" : "matching")} /{pipe.Filter.FilterPattern}/{(pipe.Filter.Field is null ? "" : " on " + pipe.Filter.Field)}";
            Console.WriteLine($"  pipe {pipe.Id} at {pipe.Path}: {pipe.SourceRef} -> {pipe.SinkRef}{filter}");
        }

        foreach (var problem in check.Problems)
        {
            Console.WriteLine($"  {problem}");
        }

        var errors = check.Problems.Count(p => p.IsError);
        var warnings = check.Problems.Count - errors;
        Console.WriteLine(errors == 0
            ? $"OK: the agent can run this config ({warnings} warning{(warnings == 1 ? "" : "s")})."
            : $"NOT OK: {errors} error{(errors == 1 ? "" : "s")}, {warnings} warning{(warnings == 1 ? "" : "s")}.");
    }

    private static async Task EnableAuditPolicyAsync(CancellationToken stop)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("--enable-audit-policy is for Windows (it runs auditpol.exe for events 4688/4689); on Linux the agent needs no audit policy, run it as root instead.");
        }

        foreach (var line in await AuditPolicy.ApplyAsync(new WindowsAuditPolicyHost(), stop))
        {
            Console.WriteLine($"sessiontrail agent: {line}");
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static int RunAsService(string name, AgentRunner runner)
    {
        using var service = new AgentWindowsService(name, stop => runner.RunAsync(line => Console.WriteLine($"sessiontrail agent: {line}; data in {runner.DataDir}"), stop));
        System.ServiceProcess.ServiceBase.Run(service);
        if (service.Failure is { } failure)
        {
            Console.Error.WriteLine($"sessiontrail agent: {failure.Message}");
            return Failure.ExitCode;
        }

        return service.ExitCode;
    }
}
