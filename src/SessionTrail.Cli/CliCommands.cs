using System.CommandLine;
using SessionTrail.Cli.Commands;

namespace SessionTrail.Cli;

/// <summary>The command tree of the `sessiontrail` executable (also read by the test that holds the README to it).</summary>
internal static class CliCommands
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            """
            SessionTrail: an audit trail for interactive user sessions. What each user ran and for how long,
            captured by one agent, kept by one server, answered by reports.

            Start here:  sessiontrail up              (server + local agent + embedded storage on this host)
            Then:        sessiontrail report top-apps (which programs ran, how often, for how long)
            """);
        root.Add(UpCommand.Create());
        root.Add(ServerCommand.Create());
        root.Add(AgentCommand.Create());
        root.Add(SessionCommand.Create());
        root.Add(ReportCommand.Create());
        root.Add(ExportCommand.Create());
        root.Add(TokenCommand.Create());
        root.Add(UserCommand.Create());
        root.Add(ImportCommand.Create());
        root.Add(AppStreamCommand.Create());
        root.Add(LogsCommand.Create());
        root.Add(RecordingsCommand.Create());
        return root;
    }
}
