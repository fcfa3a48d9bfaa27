namespace SessionTrail.Cli.Commands;

/// <summary>
/// Turns the errors a user can cause (bad option, unreadable config, data directory not writable,
/// port in use) into one clear line on stderr and exit code 1, instead of a stack trace.
/// </summary>
internal static class Failure
{
    public const int ExitCode = 1;

    public static async Task<int> GuardAsync(string command, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            await Console.Error.WriteLineAsync($"sessiontrail {command}: {Describe(ex)}");
            return ExitCode;
        }
    }

    public static bool IsUserError(Exception ex) => ex is ArgumentException or InvalidOperationException or IOException
        or UnauthorizedAccessException or InvalidDataException or HttpRequestException or FormatException
        or System.Text.Json.JsonException or Microsoft.Data.Sqlite.SqliteException or NotSupportedException
        or Agent.Config.AgentOptionsException or Agent.Config.LogConfigException or Microsoft.Extensions.Options.OptionsValidationException;

    private static string Describe(Exception ex)
    {
        var message = ex.Message;
        if (ex.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal))
        {
            message += " (" + inner.Message + ")";
        }

        return ex switch
        {
            UnauthorizedAccessException => message + " — run as root (sudo) or choose another --data directory.",
            IOException when message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
                message + " — another program listens there; choose another --urls.",
            _ => message,
        };
    }
}
