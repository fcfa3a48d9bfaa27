using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Channels;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Session;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>
/// The ETW alternative to the Security log (config <c>WindowsProcesses:Source = Etw</c>), for hosts where
/// the audit policy cannot change: a real-time TraceEvent session on Microsoft-Windows-Kernel-Process.
/// Live only (nothing is replayed after a restart) and without command lines. A thin shell: mapping and
/// per-pid memory are <see cref="KernelProcessEvents"/>; user SID, logon id and path are read from the
/// process token at the start event. Needs an administrator (or Performance Log Users).
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsEtwProcessSource(WindowsCaptureOptions options, string host, ILogger<WindowsEtwProcessSource> logger) : IRecordSource
{
    public const string SessionName = "SessionTrail-Kernel-Process";

    public string Name => "windows-etw-processes";

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var filter = new WindowsCaptureFilter(options);
        var mapper = new KernelProcessEvents(host);
        var channel = Channel.CreateBounded<ProcessRecord>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        using var session = new TraceEventSession(SessionName) { StopOnDispose = true };
        session.EnableProvider(KernelProcessEvents.ProviderName, TraceEventLevel.Informational, KernelProcessEvents.ProcessKeyword);
        session.Source.Dynamic.All += data =>
        {
            if (data.ProviderName != KernelProcessEvents.ProviderName)
            {
                return;
            }

            var payload = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < data.PayloadNames.Length; i++)
            {
                payload[data.PayloadNames[i]] = data.PayloadValue(i);
            }

            var record = mapper.Map((int)data.ID, new DateTimeOffset(data.TimeStamp.ToUniversalTime(), TimeSpan.Zero), payload, ProcessTokens.Identify);
            if (record is not null && filter.Keep(record))
            {
                try
                {
                    channel.Writer.WriteAsync(record, cancellationToken).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                }
                catch (ChannelClosedException)
                {
                }
            }
        };
        var processing = Task.Run(() =>
        {
            try
            {
                session.Source.Process();
                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);
        using var stop = cancellationToken.Register(() => session.Stop());
        LogStarted(logger, SessionName);
        try
        {
            await foreach (var record in channel.Reader.ReadAllAsync(cancellationToken))
            {
                await output.WriteAsync(record, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        session.Stop();
        await processing;
    }

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "ETW session {Session} on Microsoft-Windows-Kernel-Process started")]
    private static partial void LogStarted(ILogger logger, string session);
}

/// <summary>Reads a live process's user SID, logon id (token AuthenticationId) and Win32 path.</summary>
[SupportedOSPlatform("windows")]
internal static partial class ProcessTokens
{
    private const uint ProcessQueryLimitedInformation = 0x1000;
    private const uint TokenQuery = 0x0008;
    private const int TokenUser = 1;
    private const int TokenStatistics = 10;

    public static ProcessIdentity? Identify(int pid)
    {
        var process = OpenProcess(ProcessQueryLimitedInformation, false, (uint)pid);
        if (process == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            var path = ImagePath(process);
            if (!OpenProcessToken(process, TokenQuery, out var token))
            {
                return new ProcessIdentity(null, null, path);
            }

            try
            {
                return new ProcessIdentity(UserSid(token), LogonId(token), path);
            }
            finally
            {
                CloseHandle(token);
            }
        }
        finally
        {
            CloseHandle(process);
        }
    }

    private static string? ImagePath(IntPtr process)
    {
        var buffer = new char[32768];
        var size = (uint)buffer.Length;
        return QueryFullProcessImageNameW(process, 0, buffer, ref size) ? new string(buffer, 0, (int)size) : null;
    }

    private static string? UserSid(IntPtr token)
    {
        GetTokenInformation(token, TokenUser, IntPtr.Zero, 0, out var needed);
        if (needed == 0)
        {
            return null;
        }

        var buffer = Marshal.AllocHGlobal((int)needed);
        try
        {
            if (!GetTokenInformation(token, TokenUser, buffer, needed, out _))
            {
                return null;
            }

            var sid = Marshal.ReadIntPtr(buffer); // TOKEN_USER.User.Sid
            if (!ConvertSidToStringSidW(sid, out var text))
            {
                return null;
            }

            try
            {
                return Marshal.PtrToStringUni(text);
            }
            finally
            {
                LocalFree(text);
            }
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    private static long? LogonId(IntPtr token)
    {
        // TOKEN_STATISTICS: TokenId (LUID, 8 bytes), AuthenticationId (LUID: LowPart u32, HighPart i32), ...
        const int size = 56;
        var buffer = Marshal.AllocHGlobal(size);
        try
        {
            if (!GetTokenInformation(token, TokenStatistics, buffer, size, out _))
            {
                return null;
            }

            var low = (uint)Marshal.ReadInt32(buffer, 8);
            var high = Marshal.ReadInt32(buffer, 12);
            return ((long)high << 32) | low;
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    [LibraryImport("kernel32.dll", SetLastError = true)]
    private static partial IntPtr OpenProcess(uint access, [MarshalAs(UnmanagedType.Bool)] bool inherit, uint pid);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CloseHandle(IntPtr handle);

    [LibraryImport("kernel32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool QueryFullProcessImageNameW(IntPtr process, uint flags, [Out] char[] name, ref uint size);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool OpenProcessToken(IntPtr process, uint access, out IntPtr token);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetTokenInformation(IntPtr token, int infoClass, IntPtr info, uint length, out uint returned);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool ConvertSidToStringSidW(IntPtr sid, out IntPtr text);

    [LibraryImport("kernel32.dll")]
    private static partial IntPtr LocalFree(IntPtr memory);
}
