using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Platform.Windows;

/// <summary>The decision logic behind the Windows shells: audit policy commands, AppStream variables, logon → session.</summary>
public sealed class WindowsSessionAndPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static ProcessRecord Proc(string sid, long logon, int seconds = 0, string host = "EC2AMAZ-1") => new()
    {
        Time = T0.AddSeconds(seconds), Host = host, Type = ProcessEventType.Start, Pid = 100 + seconds, Executable = @"C:\a.exe", User = sid, AuditSession = logon,
    };

    [Fact]
    public async Task AuditPolicyRunsAuditpolByGuidThenSetsTheCommandLineValue()
    {
        var host = new FakePolicyHost();
        var done = await AuditPolicy.ApplyAsync(host);
        Assert.Equal(
            [
                "auditpol.exe /set /subcategory:{0CCE922B-69AE-11D9-BED3-505054503030} /success:enable",
                "auditpol.exe /set /subcategory:{0CCE922C-69AE-11D9-BED3-505054503030} /success:enable",
                @"HKLM Software\Microsoft\Windows\CurrentVersion\Policies\System\Audit ProcessCreationIncludeCmdLine_Enabled=1",
            ],
            host.Calls);
        Assert.Equal(3, done.Count);
    }

    [Fact]
    public async Task AFailingAuditpolStopsWithItsMessage()
    {
        var host = new FakePolicyHost { ExitCode = 5, Output = "Error 0x00000005 occurred:\r\nAccess is denied.\r\n" };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => AuditPolicy.ApplyAsync(host));
        Assert.Contains("exit code 5", e.Message, StringComparison.Ordinal);
        Assert.Contains("Access is denied.", e.Message, StringComparison.Ordinal);
        Assert.Single(host.Calls); // nothing after the failure
    }

    [Fact]
    public async Task AMissingAuditpolIsOneClearErrorNamingItAndWhatToDoAndChangesNothing()
    {
        // The real host runs the real program; there is no auditpol.exe here, as on a Windows without System32 on PATH.
        Assert.Null(Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator).FirstOrDefault(d => File.Exists(Path.Combine(d, "auditpol.exe"))));
        var host = new RealRunNoRegistry();

        var e = await Assert.ThrowsAsync<ExternalProgramException>(() => AuditPolicy.ApplyAsync(host));

        Assert.Equal("auditpol.exe could not be started ('auditpol.exe': not found); " + AuditPolicy.MissingAuditpolHint, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.IsAssignableFrom<InvalidOperationException>(e); // the CLI prints such errors as one line and exits 1
        Assert.Empty(host.RegistryWrites);
    }

    [Fact]
    public void AppStreamUserVariablesComeFromTheUserAndMachineOnesFromTheMachine()
    {
        var user = new Dictionary<string, string>
        {
            ["AppStream_Stack_Name"] = "stack-a", ["AppStream_Session_ID"] = "5f1b-sess", ["AppStream_UserName"] = "alice@example.com",
            ["AppStream_Session_Reservation_DateTime"] = "2026-11-02T08:59:00Z", ["AppStream_User_Access_Mode"] = "saml",
            ["AWS_REGION"] = "wrong-place", // a machine variable in the user's environment is not used
        };
        var machine = new Dictionary<string, string>
        {
            ["AppStream_Instance_Type"] = "stream.standard.medium", ["AWS_REGION"] = "eu-west-1", ["AppStream_Image_Arn"] = "arn:aws:appstream:eu-west-1::image/x",
            ["AppStream_Resource_Name"] = "fleet-a", ["AppStream_Resource_Type"] = "fleet",
            ["AppStream_Session_ID"] = "machine-should-not-win",
        };
        var c = AppStreamContext.Read(user.GetValueOrDefault, machine.GetValueOrDefault);
        Assert.Equal(("5f1b-sess", "alice@example.com", "stack-a", "saml", "2026-11-02T08:59:00Z"), (c.Id, c.Fields.User, c.Fields.Stack, c.Fields.AccessMode, c.Fields.ReservationTime));
        Assert.Equal(("stream.standard.medium", "eu-west-1", "arn:aws:appstream:eu-west-1::image/x", "fleet-a"), (c.Fields.InstanceType, c.Fields.Region, c.Fields.ImageArn, c.Fields.Fleet));
    }

    [Fact]
    public void LogonsOfTwoUsersOnOneHostAreTwoSessions()
    {
        var envs = new Dictionary<string, Dictionary<string, string>>
        {
            ["S-1-5-21-1-1001"] = new() { ["AppStream_Session_ID"] = "sess-alice", ["AppStream_UserName"] = "alice" },
        };
        var pipe = new WindowsLogonSessionPipe(sid => envs.TryGetValue(sid, out var e) ? e.GetValueOrDefault : null, _ => null);

        var a1 = (ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1001", 0x2b4c1f))!;
        var alice = Assert.IsType<SessionRecord>(Assert.Single(pipe.TakeEmitted()));
        var b1 = (ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1002", 0x51a00, 1))!;
        var bob = Assert.IsType<SessionRecord>(Assert.Single(pipe.TakeEmitted()));
        var a2 = (ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1001", 0x2b4c20, 2))!; // alice's elevated (linked) logon
        Assert.Empty(pipe.TakeEmitted());

        Assert.Equal(("sess-alice", "sess-alice", "EC2AMAZ-1-logon51a00"), (a1.Session, a2.Session, b1.Session));
        Assert.Equal(("sess-alice", "alice"), (alice.Session, alice.User));
        Assert.Equal(("EC2AMAZ-1-logon51a00", "S-1-5-21-1-1002"), (bob.Session, bob.User));
    }

    [Fact]
    public void SystemProcessesAndRecordsWithASessionAreLeftAlone()
    {
        var pipe = new WindowsLogonSessionPipe(_ => null, _ => null);
        var system = Proc("S-1-5-18", 0x3e7);
        Assert.Same(system, pipe.Process(system));
        var given = Proc("S-1-5-21-1-1001", 5) with { Session = "explicit" };
        Assert.Same(given, pipe.Process(given));
        Assert.Empty(pipe.TakeEmitted());
    }

    [Fact]
    public void ALogonWhoseAppStreamVariablesAppearLaterIsRecheckedThenKept()
    {
        var env = new Dictionary<string, string>();
        var reads = 0;
        var pipe = new WindowsLogonSessionPipe(_ => { reads++; return env.GetValueOrDefault; }, _ => null);
        Assert.Equal("EC2AMAZ-1-logon7", ((ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1001", 7))!).Session);
        env["AppStream_Session_ID"] = "sess-late";
        Assert.Equal("EC2AMAZ-1-logon7", ((ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1001", 7, 10))!).Session); // within 30 s: not re-read
        Assert.Equal("sess-late", ((ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1001", 7, 31))!).Session);
        Assert.Equal("sess-late", ((ProcessRecord)pipe.Process(Proc("S-1-5-21-1-1001", 7, 200))!).Session);
        Assert.Equal(2, reads);
        Assert.Equal(["EC2AMAZ-1-logon7", "sess-late"], pipe.TakeEmitted().Select(r => r.Session!));
    }

    private sealed class FakePolicyHost : IAuditPolicyHost
    {
        public List<string> Calls { get; } = [];

        public int ExitCode { get; init; }

        public string Output { get; init; } = "The command was successfully executed.\r\n";

        public Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
        {
            Calls.Add(fileName + " " + string.Join(' ', arguments));
            return Task.FromResult((ExitCode, Output));
        }

        public void SetMachineDword(string key, string name, int value) => Calls.Add($"HKLM {key} {name}={value}");
    }

    /// <summary>The real program runner of <see cref="WindowsAuditPolicyHost"/>; the registry (Windows only) is recorded instead.</summary>
    private sealed class RealRunNoRegistry : IAuditPolicyHost
    {
        private readonly WindowsAuditPolicyHost real = new();

        public List<string> RegistryWrites { get; } = [];

        public Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
            real.RunAsync(fileName, arguments, cancellationToken);

        public void SetMachineDword(string key, string name, int value) => RegistryWrites.Add($"{key} {name}={value}");
    }
}
