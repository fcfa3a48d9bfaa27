using System.Diagnostics;
using System.Text.Json;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// deploy/appstream/install.ps1 cannot run here (it installs on Windows). What is checked, with the real
/// PowerShell 7 (the <c>PowerShell</c> dotnet tool, which <c>.ci/run</c> installs): the script parses;
/// every parameter is documented; it supports -WhatIf and every state-changing command sits behind
/// ShouldProcess; it uses no PowerShell-7-only syntax (image builders have Windows PowerShell 5.1); parameter validation and its refusal to run off Windows give one clear error. Not
/// checked: that the Windows cmdlets do what is meant (ACLs, tasks, services, auditpol) — that needs a
/// Windows machine.
/// </summary>
public sealed class InstallScriptTests
{
    // Prints a JSON summary of the script's AST.
    private const string Analyze = """
        param([string] $Path)
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
        $help = $ast.GetHelpContent()
        $params = @($ast.ParamBlock.Parameters | ForEach-Object { $_.Name.VariablePath.UserPath })
        $binding = $ast.ParamBlock.Attributes | Where-Object { $_.TypeName.Name -eq 'CmdletBinding' }
        $shouldProcess = @($binding.NamedArguments | Where-Object { $_.ArgumentName -eq 'SupportsShouldProcess' }).Count -eq 1
        $mutating = 'New-Item','Copy-Item','Set-Acl','Set-ItemProperty','New-Service','Start-Service','Stop-Service',
            'Register-ScheduledTask','Unregister-ScheduledTask','Start-ScheduledTask','Stop-ScheduledTask','Start-Process','Invoke-Native','Set-Service'
        $unguarded = @()
        foreach ($command in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true)) {
            $name = $command.GetCommandName()
            if ($mutating -notcontains $name) { continue }
            if ($name -eq 'Invoke-Native' -and $command.Extent.Text -match "/get") { continue }
            $guarded = $false
            for ($p = $command.Parent; $p -ne $null; $p = $p.Parent) {
                if ($p -is [System.Management.Automation.Language.IfStatementAst]) {
                    foreach ($clause in $p.Clauses) {
                        $inBody = $clause.Item2.Extent.StartOffset -le $command.Extent.StartOffset -and $command.Extent.EndOffset -le $clause.Item2.Extent.EndOffset
                        if ($inBody -and $clause.Item1.Extent.Text -match 'ShouldProcess') { $guarded = $true }
                    }
                    if ($guarded) { break }
                }
                if ($p -is [System.Management.Automation.Language.FunctionDefinitionAst]) {
                    if ($p.Body.Extent.Text -match 'if \(.*-not \$PSCmdlet\.ShouldProcess\([^\n]*\n\s*return') { $guarded = $true }
                    break
                }
            }
            if (-not $guarded) { $unguarded += "$($command.Extent.StartLineNumber): $($command.Extent.Text)" }
        }
        # Image builders have Windows PowerShell 5.1: no syntax that only PowerShell 7 knows.
        $ps7only = @($ast.FindAll({ param($n)
            $n -is [System.Management.Automation.Language.TernaryExpressionAst] -or
            $n -is [System.Management.Automation.Language.PipelineChainAst] -or
            ($n -is [System.Management.Automation.Language.BinaryExpressionAst] -and $n.Operator -eq 'QuestionQuestion') -or
            ($n -is [System.Management.Automation.Language.AssignmentStatementAst] -and $n.Operator -eq 'QuestionQuestionEquals') -or
            ($n -is [System.Management.Automation.Language.MemberExpressionAst] -and $n.NullConditional)
        }, $true) | ForEach-Object { "$($_.Extent.StartLineNumber): $($_.Extent.Text)" })
        [ordered]@{
            ps7only = $ps7only
            errors = @($errors | ForEach-Object { "$($_.Extent.StartLineNumber): $($_.Message)" })
            parameters = $params
            documented = @($help.Parameters.Keys)
            synopsis = $help.Synopsis
            supportsShouldProcess = $shouldProcess
            unguarded = $unguarded
        } | ConvertTo-Json -Depth 4
        """;

    [Fact]
    public void Script_parses_documents_every_parameter_and_guards_every_change_with_ShouldProcess()
    {
        var file = Path.Combine(Path.GetTempPath(), $"analyze-{Guid.NewGuid():N}.ps1");
        File.WriteAllText(file, Analyze);
        try
        {
            var (code, stdout, stderr) = Pwsh("-File", file, ScriptPath());
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var r = doc.RootElement;
            Assert.Empty(Strings(r, "errors"));
            var parameters = Strings(r, "parameters");
            Assert.Contains("ServerUrl", parameters);
            Assert.Contains("S3Bucket", parameters);
            Assert.Equal(
                parameters.Select(p => p.ToUpperInvariant()).Order(StringComparer.Ordinal),
                Strings(r, "documented").Select(p => p.ToUpperInvariant()).Order(StringComparer.Ordinal));
            Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("synopsis").GetString()));
            Assert.True(r.GetProperty("supportsShouldProcess").GetBoolean());
            Assert.Empty(Strings(r, "unguarded"));
            Assert.Empty(Strings(r, "ps7only"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("Cannot validate argument on parameter 'StartWait'", "-StartWait", "99")]
    [InlineData("Cannot validate argument on parameter 'ServerUrl'", "-ServerUrl", "ftp://example.com")]
    [InlineData("Cannot validate argument on parameter 'Hosting'", "-Hosting", "Daemon")]
    [InlineData("Cannot validate argument on parameter 'SourceExe'", "-SourceExe", "/nonexistent/sessiontrail.exe")]
    [InlineData("install.ps1: this script installs the agent on a Windows image builder", "-ServerUrl", "https://trail.example.com", "-Token", "st_x")]
    public void Bad_parameters_and_a_non_windows_host_are_one_clear_error(string message, params string[] args)
    {
        var exe = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.exe");
        File.WriteAllText(exe, "not really an exe");
        try
        {
            var withExe = args.Contains("-SourceExe") ? args : [.. args, "-SourceExe", exe];
            var (code, stdout, stderr) = Pwsh(["-File", ScriptPath(), .. withExe]);
            Assert.NotEqual(0, code);
            Assert.Contains(message, Plain(stdout + stderr), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(exe);
        }
    }

    private static List<string> Strings(JsonElement r, string name) =>
        r.GetProperty(name).ValueKind == JsonValueKind.Array ? r.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToList() : [r.GetProperty(name).GetString()!];

    /// <summary>Error text without PowerShell's colour codes and line wrapping.</summary>
    private static string Plain(string s) => System.Text.RegularExpressions.Regex.Replace(
        System.Text.RegularExpressions.Regex.Replace(s, "\u001b\\[[0-9;?]*[A-Za-z]", ""), @"\s*\n\s*(\|\s*)?", " ");

    private static string FindPwsh()
    {
        var candidates = new List<string?> { Environment.GetEnvironmentVariable("PWSH") };
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, "pwsh")));
        candidates.Add(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ScriptPath())!, "..", "..", "artifacts", "tools", "pwsh"))); // where tests/setup puts it
        candidates.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "pwsh"));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("pwsh not found: run tests/setup (./run-tests does), which installs it into artifacts/tools");
    }

    private static (int Code, string Stdout, string Stderr) Pwsh(params string[] args)
    {
        var start = new ProcessStartInfo(FindPwsh()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-NoProfile", "-NonInteractive", .. args])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        start.Environment["POWERSHELL_UPDATECHECK"] = "Off";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "pwsh did not finish in 2 minutes");
        return (process.ExitCode, stdout, stderr.Result);
    }

    private static string ScriptPath() => Repository.PathOf("deploy", "appstream", "install.ps1");
}
