using System.CommandLine;
using SessionTrail.Agent.Sessions;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail session start|end`: sets the current session of this host explicitly (AppStream
/// session scripts call these). The running agent picks it up and attributes processes to it.
/// </summary>
internal static class SessionCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var id = Text("--id", "Session id. Default: $AppStream_Session_ID, else HOST-TIME.");
        var user = Text("--user", "User name. Default: $AppStream_UserName.");
        var stack = Text("--stack", "Stack. Default: $AppStream_Stack_Name.");
        var fleet = Text("--fleet", "Fleet. Default: $AppStream_Resource_Name.");
        var access = Text("--access-mode", "Authentication type (the seed's auth_type). Default: $AppStream_User_Access_Mode.");
        var reservation = Text("--reservation-time", "Reservation time as given. Default: $AppStream_Session_Reservation_DateTime.");
        var instance = Text("--instance-type", "Instance type. Default: $AppStream_Instance_Type.");
        var region = Text("--region", "Region. Default: $AWS_REGION.");
        var image = Text("--image-arn", "Image ARN. Default: $AppStream_Image_Arn.");

        var start = new Command("start", "Start (or replace) this host's current session. Processes started from now on belong to it.")
        {
            data, id, user, stack, fleet, access, reservation, instance, region, image,
        };
        start.SetAction((parse, _) => Failure.GuardAsync("session start", () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var session = SessionControl.Start(dir, new SessionStartRequest
            {
                Id = parse.GetValue(id),
                Fields = new()
                {
                    User = parse.GetValue(user),
                    Stack = parse.GetValue(stack),
                    Fleet = parse.GetValue(fleet),
                    AccessMode = parse.GetValue(access),
                    ReservationTime = parse.GetValue(reservation),
                    InstanceType = parse.GetValue(instance),
                    Region = parse.GetValue(region),
                    ImageArn = parse.GetValue(image),
                },
            }, DateTimeOffset.UtcNow, Variables());
            Console.WriteLine($"session {session.Id} started (user {session.Fields.User ?? "-"}); state in {SessionControl.FilePath(dir)}");
            return Task.FromResult(0);
        }));

        var endData = CommonOptions.Data();
        var end = new Command("end", "End this host's current session. Its runs still open end at this time.") { endData };
        end.SetAction((parse, _) => Failure.GuardAsync("session end", () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(endData)!);
            var ended = SessionControl.End(dir, DateTimeOffset.UtcNow);
            if (ended is null)
            {
                Console.Error.WriteLine($"sessiontrail session end: no active session in {SessionControl.FilePath(dir)}");
                return Task.FromResult(Failure.ExitCode);
            }

            Console.WriteLine($"session {ended.Id} ended");
            return Task.FromResult(0);
        }));

        return new Command("session", "Session lifecycle: which user session this host is serving (AppStream session scripts).") { start, end };
    }

    private static Option<string?> Text(string name, string description) => new(name) { Description = description };

    /// <summary>
    /// Where the session's defaults come from. On Windows the session scripts run this command as
    /// SYSTEM, whose environment has no AppStream user variables: they are read from the streaming
    /// user's registry environment instead.
    /// </summary>
    private static Func<string, string?>? Variables() => OperatingSystem.IsWindows()
        ? Agent.Platform.Windows.AppStreamContext.ForSessionStart(
            Environment.GetEnvironmentVariable,
            Agent.Platform.Windows.WindowsRegistryEnvironment.LoadedUsers(),
            Agent.Platform.Windows.WindowsRegistryEnvironment.Machine)
        : null;
}
