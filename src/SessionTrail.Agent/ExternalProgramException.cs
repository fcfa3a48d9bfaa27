using System.ComponentModel;

namespace SessionTrail.Agent;

/// <summary>
/// A program the agent runs (auditpol.exe, journalctl, ffmpeg, xrandr, …) could not be started: not found, not
/// executable. A setup problem, not a bug: the message names the program, the path tried, why, and (with a hint)
/// what to do — e.g. <c>journalctl could not be started ('/usr/bin/journalctl': not found); install systemd's
/// journalctl or set JournalctlPath in the source's config</c> — and it is reported as that one line, never with a
/// stack trace. It is an <see cref="InvalidOperationException"/>, so code that catches those for a failed run catches it.
/// </summary>
public sealed class ExternalProgramException : InvalidOperationException
{
    private ExternalProgramException(string path, string reason, string? hint, Exception? inner)
        : base($"{System.IO.Path.GetFileName(path)} could not be started ('{path}': {reason}){(hint is null ? "" : "; " + hint)}", inner)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The program as it was asked for (a path or a bare name looked up on PATH).</summary>
    public string Path { get; }

    /// <summary>Why it could not start: "not found", "permission denied (not executable?)", ….</summary>
    public string Reason { get; }

    /// <summary>Why <see cref="System.Diagnostics.Process.Start(System.Diagnostics.ProcessStartInfo)"/> of <paramref name="path"/> failed.</summary>
    public static ExternalProgramException From(string path, Win32Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var reason = error.NativeErrorCode switch
        {
            2 or 3 => "not found", // ENOENT; ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND
            5 or 13 => "permission denied (not executable?)", // ERROR_ACCESS_DENIED; EACCES
            8 or 193 => "not a program this system can run", // ENOEXEC; ERROR_BAD_EXE_FORMAT
            _ => error.Message,
        };
        return new ExternalProgramException(path, reason, null, error);
    }

    /// <summary>The same failure with what to do about it appended.</summary>
    public ExternalProgramException WithHint(string hint) => new(Path, Reason, hint, InnerException);
}
