using System.Runtime.Versioning;
using Microsoft.Win32;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>What <see cref="AuditPolicy.Apply"/> needs from Windows (a fake checks the calls on Linux).</summary>
public interface IAuditPolicyHost
{
    /// <summary>Runs a program and returns its exit code and combined output.</summary>
    (int ExitCode, string Output) Run(string fileName, IReadOnlyList<string> arguments);

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

    /// <summary>
    /// Applies the policy; returns one line per change made. Throws <see cref="InvalidOperationException"/>
    /// with auditpol's own message when it fails (typically: not run as an administrator).
    /// </summary>
    public static IReadOnlyList<string> Apply(IAuditPolicyHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var done = new List<string>();
        foreach (var arguments in AuditpolArguments)
        {
            var (exitCode, output) = host.Run("auditpol.exe", arguments);
            var line = "auditpol.exe " + string.Join(' ', arguments);
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

/// <summary>The real <see cref="IAuditPolicyHost"/>: runs auditpol.exe, writes HKLM.</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsAuditPolicyHost : IAuditPolicyHost
{
    public (int ExitCode, string Output) Run(string fileName, IReadOnlyList<string> arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)
            ?? throw new InvalidOperationException($"{fileName} could not be started");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }

    public void SetMachineDword(string key, string name, int value)
    {
        using var subKey = Registry.LocalMachine.CreateSubKey(key, writable: true);
        subKey.SetValue(name, value, RegistryValueKind.DWord);
    }
}
