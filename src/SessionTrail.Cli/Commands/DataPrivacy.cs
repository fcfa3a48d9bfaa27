using System.CommandLine;
using Microsoft.Extensions.Logging;
using SessionTrail.Core;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// Who may read a data directory (see <see cref="DataAccess"/>): <c>--group</c> of server, agent and up, and their
/// start-up pass that brings an existing tree to it. Commands that only add to a data directory follow it
/// (<see cref="CommonOptions.DataToWrite"/>).
/// </summary>
internal static partial class DataPrivacy
{
    /// <summary>Environment variable that gives --group its default.</summary>
    public const string GroupVariable = "SESSIONTRAIL_GROUP";

    public static Option<string?> Group() => new("--group")
    {
        Description = "Let this group read the data directory: folders 2750, files 0640, all of the group (secrets stay 0600). " +
                      $"Without it everything is the owner's only (0700/0600). Default: ${GroupVariable}. Linux only.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(GroupVariable) is { Length: > 0 } group ? group : null,
        HelpName = "NAME",
    };

    /// <summary>The access <paramref name="group"/> names (owner only when null), in force in this process from now on.</summary>
    public static DataAccess Use(string? group)
    {
        var access = string.IsNullOrWhiteSpace(group) ? DataAccess.OwnerOnly : DataAccess.ForGroup(group);
        access.UseInThisProcess();
        return access;
    }

    /// <summary>
    /// Creates <paramref name="dataDir"/> when missing and brings everything in it to <paramref name="access"/> — an
    /// older install, another umask or another group — with one log line when that changed anything.
    /// </summary>
    public static void Prepare(DataAccess access, string dataDir, ILogger logger)
    {
        access.CreateDirectory(dataDir);
        var changes = access.Tighten(dataDir, DataDirectory.Secrets(dataDir), DataDirectory.IsOwnEntry);
        if (changes.Foreign is { } foreign)
        {
            LogForeign(logger, dataDir, foreign, access.Description);
        }

        if (changes.Count > 0)
        {
            LogChanged(logger, dataDir, changes.Count, access.Description, changes.ExampleText);
        }

        if (changes.RefusedCount > 0)
        {
            LogRefused(logger, dataDir, changes.RefusedCount, access.Description, changes.RefusedExample!);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "data directory {DataDir}: changed {Count} files and folders to {Access}, e.g. {Example}")]
    private static partial void LogChanged(ILogger logger, string dataDir, int count, string access, string example);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "data directory {DataDir} also holds what is not SessionTrail's (e.g. {Foreign}): only SessionTrail's own files and folders in it were made {Access}; the folder itself and everything else keep their modes. Give SessionTrail a folder of its own (--data)")]
    private static partial void LogForeign(ILogger logger, string dataDir, string foreign, string access);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "data directory {DataDir}: {Count} files and folders of another owner could not be made {Access}, e.g. {Example}; change them as root")]
    private static partial void LogRefused(ILogger logger, string dataDir, int count, string access, string example);
}
