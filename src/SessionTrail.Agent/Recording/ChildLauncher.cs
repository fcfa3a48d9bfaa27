using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using SessionTrail.Agent.Platform;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// Starts the recorder's children so that they die with the agent even when it is SIGKILLed:
/// on Linux under `setpriv --pdeathsig KILL` (the kernel kills the child when its parent dies), on Windows
/// in a Job Object with KILL_ON_JOB_CLOSE (the job closes with the agent's last handle).
/// </summary>
/// <remarks>
/// Linux sends the parent-death signal when the <em>thread</em> that forked the child exits, not the process.
/// .NET forks on the calling thread, and thread-pool threads retire when idle — so children are forked from one
/// dedicated thread that lives as long as the agent.
/// </remarks>
public static class ChildLauncher
{
    private static readonly Lazy<string?> Setpriv = new(FindSetpriv);
    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Done)> Requests = [];
    private static readonly Lazy<Thread> Forker = new(() =>
    {
        var t = new Thread(ForkLoop) { IsBackground = true, Name = "sessiontrail-child-launcher" };
        t.Start();
        return t;
    });

    /// <summary>True when Linux children get the parent-death signal (setpriv with --pdeathsig found).</summary>
    public static bool HasParentDeathSignal => HostOs.IsLinux && Setpriv.Value is not null;

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> (stdin/stdout/stderr as in <paramref name="template"/>).
    /// Throws <see cref="System.ComponentModel.Win32Exception"/> when it cannot start.
    /// </summary>
    public static async Task<Process> StartAsync(string fileName, IEnumerable<string> arguments, ProcessStartInfo template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var args = arguments.ToList();
        if (HostOs.IsLinux && Setpriv.Value is { } setpriv)
        {
            template.FileName = setpriv;
            template.ArgumentList.Add("--pdeathsig");
            template.ArgumentList.Add("KILL");
            template.ArgumentList.Add(fileName);
        }
        else
        {
            template.FileName = fileName;
        }

        foreach (var a in args)
        {
            template.ArgumentList.Add(a);
        }

        template.UseShellExecute = false;
        Process process;
        if (HostOs.IsLinux)
        {
            var done = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = Forker.Value;
            Requests.Add((template, done));
            process = await done.Task;
        }
        else
        {
            process = new Process { StartInfo = template, EnableRaisingEvents = true };
            process.Start();
        }

        if (HostOs.IsWindows)
        {
            KillOnCloseJob.Assign(process);
        }

        return process;
    }

    private static void ForkLoop()
    {
        foreach (var (info, done) in Requests.GetConsumingEnumerable())
        {
            try
            {
                var p = new Process { StartInfo = info, EnableRaisingEvents = true };
                p.Start();
                done.SetResult(p);
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }
    }

    private static string? FindSetpriv()
    {
        var path = File.Exists("/usr/bin/setpriv") ? "/usr/bin/setpriv" : File.Exists("/bin/setpriv") ? "/bin/setpriv" : null;
        if (path is null)
        {
            return null;
        }

        try
        {
            var help = ExternalTool.RunAsync(path, ["--help"], null, TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
            return help.Stdout.Contains("--pdeathsig", StringComparison.Ordinal) ? path : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    /// <summary>One Job Object per agent with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the agent dies, Windows closes its handle and kills the job's processes.</summary>
    [SupportedOSPlatform("windows")]
    private static class KillOnCloseJob
    {
        private const int JobObjectExtendedLimitInformation = 9;
        private const uint KillOnJobClose = 0x2000;
        private static readonly Lazy<nint> Job = new(Create);

        public static void Assign(Process process)
        {
            if (Job.Value != 0 && !AssignProcessToJobObject(Job.Value, process.Handle))
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError(), "AssignProcessToJobObject failed for pid " + process.Id);
            }
        }

        private static unsafe nint Create()
        {
            var job = CreateJobObjectW(0, null);
            if (job == 0)
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError(), "CreateJobObject failed");
            }

            var info = default(ExtendedLimitInformation);
            info.BasicLimitInformation.LimitFlags = KillOnJobClose;
            if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &info, (uint)sizeof(ExtendedLimitInformation)))
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError(), "SetInformationJobObject failed");
            }

            return job;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct BasicLimitInformation
        {
            public long PerProcessUserTimeLimit;
            public long PerJobUserTimeLimit;
            public uint LimitFlags;
            public nuint MinimumWorkingSetSize;
            public nuint MaximumWorkingSetSize;
            public uint ActiveProcessLimit;
            public nuint Affinity;
            public uint PriorityClass;
            public uint SchedulingClass;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct IoCounters
        {
            public ulong ReadOperationCount;
            public ulong WriteOperationCount;
            public ulong OtherOperationCount;
            public ulong ReadTransferCount;
            public ulong WriteTransferCount;
            public ulong OtherTransferCount;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct ExtendedLimitInformation
        {
            public BasicLimitInformation BasicLimitInformation;
            public IoCounters IoInfo;
            public nuint ProcessMemoryLimit;
            public nuint JobMemoryLimit;
            public nuint PeakProcessMemoryUsed;
            public nuint PeakJobMemoryUsed;
        }

        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern unsafe nint CreateJobObjectW(nint attributes, char* name);

        [DllImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern unsafe bool SetInformationJobObject(nint job, int infoClass, void* info, uint length);

        [DllImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern bool AssignProcessToJobObject(nint job, nint process);
    }
}
