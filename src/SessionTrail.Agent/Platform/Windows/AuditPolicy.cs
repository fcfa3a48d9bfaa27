using System.Runtime.Versioning;
using Microsoft.Win32;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>What <see cref="AuditPolicy.ApplyAsync"/> needs from Windows (a fake checks the calls on Linux).</summary>
public interface IAuditPolicyHost
{
    /// <summary>
    /// Runs a program to its end and returns its exit code and combined output. Throws
    /// <see cref="ExternalProgramException"/> when the program cannot be started and <see cref="TimeoutException"/>
    /// when it does not finish in time.
    /// </summary>
    Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken);

    /// <summary>Creates <c>HKLM\{key}</c> when needed and sets a REG_DWORD value.</summary>
    void SetMachineDword(string key, string name, int value);
}

/// <summary>
/// <c>sessiontrail agent --enable-audit-policy</c>: turns on the audit subcategories "Process Creation"
/// (4688) and "Process Termination" (4689), as the seed's <c>auditpol</c> lines do but by subcategory GUID
/// so that it works on every display language, and makes 4688 carry the command line.
/// </summary>
public static class AuditPolicy
{
    /// <summary>Audit subcategory "Process Creation" (Detailed Tracking), event 4688.</summary>
    public const string ProcessCreationGuid = "{0CCE922B-69AE-11D9-BED3-505054503030}";

    /// <summary>Audit subcategory "Process Termination" (Detailed Tracking), event 4689.</summary>
    public const string ProcessTerminationGuid = "{0CCE922C-69AE-11D9-BED3-505054503030}";

    /// <summary>Under HKLM: the policy key of "Include command line in process creation events".</summary>
    public const string CommandLineKey = @"Software\Microsoft\Windows\CurrentVersion\Policies\System\Audit";

    public const string CommandLineValue = "ProcessCreationIncludeCmdLine_Enabled";

    /// <summary>The auditpol.exe argument lists, one per subcategory.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> AuditpolArguments { get; } =
    [
        ["/set", "/subcategory:" + ProcessCreationGuid, "/success:enable"],
        ["/set", "/subcategory:" + ProcessTerminationGuid, "/success:enable"],
    ];

    /// <summary>What to do when auditpol.exe cannot be started.</summary>
    public const string MissingAuditpolHint =
        "auditpol.exe is part of Windows (%SystemRoot%\\System32): run this on Windows with System32 on PATH, or leave out --enable-audit-policy and set the policy by Group Policy (docs/appstream.md)";

    /// <summary>How long one auditpol.exe run may take.</summary>
    public static readonly TimeSpan AuditpolTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Applies the policy; returns one line per change made. Throws <see cref="InvalidOperationException"/>
    /// with auditpol's own message when it fails (typically: not run as an administrator), an
    /// <see cref="ExternalProgramException"/> naming auditpol.exe and what to do when it cannot be started,
    /// and an <see cref="InvalidOperationException"/> when it does not finish within <see cref="AuditpolTimeout"/>.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(IAuditPolicyHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var done = new List<string>();
        foreach (var arguments in AuditpolArguments)
        {
            var line = "auditpol.exe " + string.Join(' ', arguments);
            int exitCode;
            string output;
            try
            {
                (exitCode, output) = await host.RunAsync("auditpol.exe", arguments, cancellationToken);
            }
            catch (ExternalProgramException ex)
            {
                throw ex.WithHint(MissingAuditpolHint);
            }
            catch (TimeoutException ex)
            {
                throw new InvalidOperationException($"{line} did not finish within {AuditpolTimeout.TotalSeconds:0} s; nothing after it was changed", ex);
            }

            if (exitCode != 0)
            {
                throw new InvalidOperationException($"{line} failed with exit code {exitCode} (run as an administrator): {output.Trim()}");
            }

            done.Add(line);
        }

        host.SetMachineDword(CommandLineKey, CommandLineValue, 1);
        done.Add($@"HKLM\{CommandLineKey}\{CommandLineValue} = 1 (REG_DWORD)");
        return done;
    }
}

/// <summary>
/// The real <see cref="IAuditPolicyHost"/>: runs auditpol.exe (<see cref="Recording.ExternalTool"/>, so a missing one
/// is an <see cref="ExternalProgramException"/>; this part runs anywhere), writes HKLM (Windows only).
/// </summary>
public sealed class WindowsAuditPolicyHost : IAuditPolicyHost
{
    public async Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await Recording.ExternalTool.RunAsync(fileName, arguments, null, AuditPolicy.AuditpolTimeout, cancellationToken);
        return (result.ExitCode, result.Stdout + result.Stderr);
    }

    [SupportedOSPlatform("windows")]
    public void SetMachineDword(string key, string name, int value)
    {
        using var subKey = Registry.LocalMachine.CreateSubKey(key, writable: true);
        subKey.SetValue(name, value, RegistryValueKind.DWord);
    }
}
