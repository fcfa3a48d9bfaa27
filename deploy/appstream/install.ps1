<#
.SYNOPSIS
Installs the SessionTrail agent on an Amazon AppStream 2.0 image builder (Windows).

.DESCRIPTION
Run it in an elevated PowerShell on the image builder, before you create the image. It:
  1. copies sessiontrail.exe to the install folder (default C:\Program Files\SessionTrail);
  2. creates the data folder (default C:\ProgramData\SessionTrail) that only SYSTEM and
     Administrators can open: users can neither read the queue and token nor change the state;
  3. writes the agent configuration (SessionTrail server URL and token, and/or an S3 bucket) to
     DATA\agent.json;
  4. registers the agent to start at boot as LocalSystem and restart when it fails: a scheduled task
     or, by default, a Windows service running `sessiontrail agent --service` (see docs\appstream.md);
  5. enables the audit policy for process creation/termination (4688/4689) with the command line in
     4688, through `sessiontrail agent --enable-audit-policy`, else auditpol.exe directly;
  6. writes C:\AppStream\SessionScripts\config.json with `sessiontrail appstream config-json`
     (session start/end in the system context). An existing config.json that is not SessionTrail's is
     kept as config.json.bak-TIME first.
Running it again with the same parameters changes nothing more (it stops the agent, replaces the
executable and the configuration, and starts it again). Use -WhatIf to see what it would do.

.PARAMETER SourceExe
The sessiontrail.exe to install (win-x64 single file). Default: sessiontrail.exe beside this script.

.PARAMETER InstallDir
Folder for sessiontrail.exe. Default: C:\Program Files\SessionTrail.

.PARAMETER DataDir
The agent's data folder (queue, state, agent.json). Default: C:\ProgramData\SessionTrail.

.PARAMETER ServerUrl
URL of the SessionTrail server the agent delivers to, e.g. https://trail.example.com. Needs -Token.

.PARAMETER Token
Agent token from `sessiontrail token create` on the server.

.PARAMETER S3Bucket
Also (or only) write per-session objects to this S3 bucket (the seed's layout, readable by Athena).
Credentials come from the image builder's / fleet's IAM role.

.PARAMETER S3Region
Region of -S3Bucket, e.g. us-east-1. Required with -S3Bucket.

.PARAMETER S3Prefix
Key prefix in -S3Bucket. Default: the agent's (appstream_applications).

.PARAMETER Hosting
Service (default: a LocalSystem service, `sessiontrail agent --service`) or ScheduledTask (a SYSTEM task
at boot): how Windows starts the agent at boot and restarts it when it fails.

.PARAMETER TaskName
Name of the scheduled task or service. Default: SessionTrailAgent.

.PARAMETER SessionScriptsConfig
Where AppStream reads its session scripts. Default: C:\AppStream\SessionScripts\config.json.

.PARAMETER StartWait
SessionStart waitingTime in seconds (1-60). Default 30.

.PARAMETER EndWait
SessionTermination waitingTime in seconds (1-60). Default 60.

.PARAMETER SkipAuditPolicy
Do not change the audit policy (when a Group Policy sets it).

.EXAMPLE
.\install.ps1 -ServerUrl https://trail.example.com -Token st_0123...

.EXAMPLE
.\install.ps1 -S3Bucket my-usage-bucket -S3Region us-east-1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [ValidateScript({ (Test-Path -LiteralPath $_ -PathType Leaf) -and $_ -like '*.exe' })]
    [string] $SourceExe = (Join-Path $PSScriptRoot 'sessiontrail.exe'),

    [ValidateNotNullOrEmpty()]
    [string] $InstallDir = 'C:\Program Files\SessionTrail',

    [ValidateNotNullOrEmpty()]
    [string] $DataDir = 'C:\ProgramData\SessionTrail',

    [ValidatePattern('^https?://[^\s/]+')]
    [string] $ServerUrl,

    [ValidatePattern('^\S+$')]
    [string] $Token,

    [ValidatePattern('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$')]
    [string] $S3Bucket,

    [ValidatePattern('^[a-z]{2}(-[a-z]+)+-\d+$')]
    [string] $S3Region,

    [ValidatePattern('^[^\s]*$')]
    [string] $S3Prefix,

    [ValidateSet('ScheduledTask', 'Service')]
    [string] $Hosting = 'Service',

    [ValidatePattern('^[A-Za-z0-9_.-]+$')]
    [string] $TaskName = 'SessionTrailAgent',

    [ValidateNotNullOrEmpty()]
    [string] $SessionScriptsConfig = 'C:\AppStream\SessionScripts\config.json',

    [ValidateRange(1, 60)]
    [int] $StartWait = 30,

    [ValidateRange(1, 60)]
    [int] $EndWait = 60,

    [switch] $SkipAuditPolicy
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# Process Creation / Process Termination audit subcategories (language-independent GUIDs).
$ProcessCreation = '{0CCE922B-69AE-11D9-BED3-505054503030}'
$ProcessTermination = '{0CCE922C-69AE-11D9-BED3-505054503030}'
$SystemSid = 'S-1-5-18'
$AdministratorsSid = 'S-1-5-32-544'

function Fail([string] $Message) {
    throw "install.ps1: $Message"
}

# Runs a native program; a non-zero exit code is an error naming the command.
function Invoke-Native([string] $File, [string[]] $Arguments) {
    $output = & $File @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) {
        Fail "'$File $($Arguments -join ' ')' failed with exit code ${LASTEXITCODE}: $($output -join ' ')"
    }
    return $output
}

function Assert-Environment {
    $onWindows = ($PSVersionTable.PSEdition -eq 'Desktop') -or ((Get-Variable -Name IsWindows -ValueOnly -ErrorAction SilentlyContinue) -eq $true)
    if (-not $onWindows) {
        Fail 'this script installs the agent on a Windows image builder; it cannot run on this system.'
    }
    $principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        Fail 'run it from an elevated PowerShell (Run as administrator).'
    }
    if (-not (Test-Path -LiteralPath $SourceExe -PathType Leaf)) {
        Fail "no sessiontrail.exe at $SourceExe; pass -SourceExe PATH (build it with: dotnet publish src/SessionTrail.Cli -c Release -r win-x64)."
    }
    if (-not $ServerUrl -and -not $S3Bucket) {
        Fail 'give -ServerUrl and -Token (a SessionTrail server), -S3Bucket and -S3Region (S3), or both.'
    }
    if ($ServerUrl -and -not $Token) {
        Fail '-ServerUrl needs -Token (create one on the server: sessiontrail token create).'
    }
    if ($S3Bucket -and -not $S3Region) {
        Fail '-S3Bucket needs -S3Region (e.g. us-east-1).'
    }
}

function Stop-Agent {
    $service = Get-Service -Name $TaskName -ErrorAction SilentlyContinue
    if ($service -and $service.Status -ne 'Stopped' -and $PSCmdlet.ShouldProcess($TaskName, 'Stop service')) {
        Stop-Service -Name $TaskName -Force
    }
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if ($task -and $task.State -eq 'Running' -and $PSCmdlet.ShouldProcess($TaskName, 'Stop scheduled task')) {
        Stop-ScheduledTask -TaskName $TaskName
    }
    # Switching between -Hosting ScheduledTask and Service: remove the other registration.
    if ($Hosting -eq 'ScheduledTask' -and $service -and $PSCmdlet.ShouldProcess($TaskName, 'Delete service (now a scheduled task)')) {
        Invoke-Native 'sc.exe' @('delete', $TaskName) | Out-Null
    }
    if ($Hosting -eq 'Service' -and $task -and $PSCmdlet.ShouldProcess($TaskName, 'Unregister scheduled task (now a service)')) {
        Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
    }
}

function Install-Executable([string] $Target) {
    if ($PSCmdlet.ShouldProcess($InstallDir, 'Create folder')) {
        New-Item -ItemType Directory -Path $InstallDir -Force | Out-Null
    }
    if ($PSCmdlet.ShouldProcess($Target, "Copy $SourceExe")) {
        Copy-Item -LiteralPath $SourceExe -Destination $Target -Force
    }
}

# SYSTEM and Administrators: full control; nobody else (inheritance removed), so users can neither
# read the queue and token nor change the session state.
function Protect-DataFolder {
    if ($PSCmdlet.ShouldProcess($DataDir, 'Create folder')) {
        New-Item -ItemType Directory -Path $DataDir -Force | Out-Null
    }
    if (-not $PSCmdlet.ShouldProcess($DataDir, 'Set ACL: SYSTEM and Administrators full control, nobody else')) {
        return
    }
    $acl = New-Object System.Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
    foreach ($sid in @($SystemSid, $AdministratorsSid)) {
        $identity = New-Object System.Security.Principal.SecurityIdentifier($sid)
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($identity, 'FullControl', $inherit, 'None', 'Allow')
        $acl.AddAccessRule($rule)
    }
    $acl.SetOwner((New-Object System.Security.Principal.SecurityIdentifier($AdministratorsSid)))
    Set-Acl -LiteralPath $DataDir -AclObject $acl
}

function Write-AgentConfig([string] $Path) {
    $config = [ordered]@{}
    if ($ServerUrl) {
        $config.Agent = [ordered]@{ ServerUrl = $ServerUrl; Token = $Token }
    }
    if ($S3Bucket) {
        $sink = [ordered]@{ Type = 'S3'; Bucket = $S3Bucket; Region = $S3Region }
        if ($S3Prefix) { $sink.Prefix = $S3Prefix }
        $config.Sinks = @($sink)
    }
    $json = $config | ConvertTo-Json -Depth 5
    if ($PSCmdlet.ShouldProcess($Path, 'Write agent configuration')) {
        [System.IO.File]::WriteAllText($Path, $json, (New-Object System.Text.UTF8Encoding($false)))
    }
}

function Register-Agent([string] $Exe, [string] $ConfigPath) {
    $arguments = "agent --config `"$ConfigPath`" --data `"$DataDir`""
    if ($Hosting -eq 'Service') {
        # --service: the agent reports to the Service Control Manager (start, stop with flush, shutdown).
        $binPath = "`"$Exe`" $arguments --service --service-name `"$TaskName`""
        if (Get-Service -Name $TaskName -ErrorAction SilentlyContinue) {
            # The service's command line is set in the registry: sc.exe config would need quotes inside an
            # argument, which Windows PowerShell 5.1 does not pass on intact.
            if ($PSCmdlet.ShouldProcess($TaskName, 'Update service command line (LocalSystem, automatic)')) {
                $key = "HKLM:\SYSTEM\CurrentControlSet\Services\$TaskName"
                Set-ItemProperty -Path $key -Name 'ImagePath' -Value $binPath -Type ExpandString
                Set-ItemProperty -Path $key -Name 'ObjectName' -Value 'LocalSystem'
                Set-Service -Name $TaskName -StartupType Automatic
            }
        }
        elseif ($PSCmdlet.ShouldProcess($TaskName, 'Create service (LocalSystem, automatic)')) {
            New-Service -Name $TaskName -BinaryPathName $binPath -DisplayName 'SessionTrail agent' -StartupType Automatic `
                -Description 'Records which programs users run (SessionTrail).' | Out-Null
        }
        if ($PSCmdlet.ShouldProcess($TaskName, 'GC settings for heavy log streams (service environment)')) {
            # Concurrent GC with a 16 MiB gen-0 budget: 110 MB instead of 218 MB peak RSS while shipping
            # 50 MiB/s of logs, no change when idle (docs/performance.md; the same as the systemd unit).
            Set-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$TaskName" -Name 'Environment' `
                -Value @('DOTNET_gcConcurrent=1', 'DOTNET_GCgen0size=0x1000000') -Type MultiString
        }
        if ($PSCmdlet.ShouldProcess($TaskName, 'Restart on failure (5 s, 5 s, 30 s)')) {
            Invoke-Native 'sc.exe' @('failure', $TaskName, 'reset=', '86400', 'actions=', 'restart/5000/restart/5000/restart/30000') | Out-Null
            Invoke-Native 'sc.exe' @('failureflag', $TaskName, '1') | Out-Null
        }
        if ($PSCmdlet.ShouldProcess($TaskName, 'Start service')) {
            Start-Service -Name $TaskName
        }
        return
    }

    $action = New-ScheduledTaskAction -Execute $Exe -Argument $arguments -WorkingDirectory $DataDir
    $trigger = New-ScheduledTaskTrigger -AtStartup
    $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    $settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
        -ExecutionTimeLimit ([TimeSpan]::Zero) -MultipleInstances IgnoreNew -StartWhenAvailable `
        -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
    if ($PSCmdlet.ShouldProcess($TaskName, 'Register scheduled task (at startup, SYSTEM, restart on failure)')) {
        Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Principal $principal `
            -Settings $settings -Description 'SessionTrail agent: records which programs users run.' -Force | Out-Null
    }
    if ($PSCmdlet.ShouldProcess($TaskName, 'Start scheduled task')) {
        Start-ScheduledTask -TaskName $TaskName
    }
}

function Enable-AuditPolicy([string] $Exe) {
    if ($SkipAuditPolicy -or -not $PSCmdlet.ShouldProcess('audit policy', 'Enable process creation/termination auditing with command lines')) {
        return
    }
    # The agent's own switch first; it must finish within a minute, else auditpol.exe does it.
    $process = Start-Process -FilePath $Exe -ArgumentList 'agent', '--enable-audit-policy' -NoNewWindow -PassThru
    $null = $process.Handle # without it ExitCode can read as empty after the process exits
    $useAuditpol = $true
    if (-not $process.WaitForExit(60000)) {
        $process.Kill()
        $process.WaitForExit()
        Write-Warning 'sessiontrail agent --enable-audit-policy did not finish within 60 s; using auditpol.exe.'
    }
    elseif ($process.ExitCode -ne 0) {
        Write-Warning "sessiontrail agent --enable-audit-policy exited with $($process.ExitCode); using auditpol.exe."
    }
    else {
        $useAuditpol = $false
    }
    if ($useAuditpol) {
        foreach ($subcategory in @($ProcessCreation, $ProcessTermination)) {
            Invoke-Native 'auditpol.exe' @('/set', "/subcategory:$subcategory", '/success:enable') | Out-Null
        }
        # "Include command line in process creation events" (the CommandLine field of 4688).
        $key = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\Audit'
        New-Item -Path $key -Force | Out-Null
        Set-ItemProperty -Path $key -Name 'ProcessCreationIncludeCmdLine_Enabled' -Value 1 -Type DWord
    }
    foreach ($subcategory in @($ProcessCreation, $ProcessTermination)) {
        $state = Invoke-Native 'auditpol.exe' @('/get', "/subcategory:$subcategory", '/r')
        # auditpol prints the setting in the system's language: only English output can be checked here.
        if (-not ($state -match 'Success') -and ($state -match 'No Auditing')) {
            Write-Warning "audit subcategory $subcategory is not enabled after setting it (a Group Policy may override it): $state"
        }
    }
}

function Write-SessionScripts([string] $Exe) {
    if ((Test-Path -LiteralPath $SessionScriptsConfig) -and -not (Select-String -LiteralPath $SessionScriptsConfig -Pattern 'sessiontrail' -Quiet)) {
        $backup = "$SessionScriptsConfig.bak-$(Get-Date -Format yyyyMMddHHmmss)"
        if ($PSCmdlet.ShouldProcess($SessionScriptsConfig, "Back up to $backup")) {
            Copy-Item -LiteralPath $SessionScriptsConfig -Destination $backup
            Write-Warning "AppStream runs one system script per session event: the previous $SessionScriptsConfig is in $backup; merge its scripts into a wrapper if you still need them."
        }
    }
    if ($PSCmdlet.ShouldProcess($SessionScriptsConfig, 'Write session scripts (sessiontrail session start/end)')) {
        Invoke-Native $Exe @('appstream', 'config-json', '--exe', $Exe, '--data', $DataDir,
            '--start-wait', "$StartWait", '--end-wait', "$EndWait", '--out', $SessionScriptsConfig) | Out-Null
    }
}

Assert-Environment
$exe = Join-Path $InstallDir 'sessiontrail.exe'
$configPath = Join-Path $DataDir 'agent.json'
Stop-Agent
Install-Executable $exe
Protect-DataFolder
Write-AgentConfig $configPath
Enable-AuditPolicy $exe
Write-SessionScripts $exe
Register-Agent $exe $configPath
Write-Host "SessionTrail agent installed: $exe ($Hosting '$TaskName', data in $DataDir, session scripts in $SessionScriptsConfig)."
Write-Host "Check it: & '$exe' agent status --data '$DataDir'"
