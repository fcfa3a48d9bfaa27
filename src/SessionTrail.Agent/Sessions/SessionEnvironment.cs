namespace SessionTrail.Agent.Sessions;

/// <summary>The AppStream 2.0 environment variables that describe a session (one place for the names).</summary>
public static class SessionEnvironment
{
    public const string SessionId = "AppStream_Session_ID";
    public const string UserName = "AppStream_UserName";
    public const string StackName = "AppStream_Stack_Name";
    public const string Fleet = "AppStream_Resource_Name";
    public const string AccessMode = "AppStream_User_Access_Mode";
    public const string ReservationTime = "AppStream_Session_Reservation_DateTime";
    public const string InstanceType = "AppStream_Instance_Type";
    public const string Region = "AWS_REGION";
    public const string ImageArn = "AppStream_Image_Arn";

    /// <summary>
    /// Fills the fields <paramref name="request"/> leaves empty from the environment
    /// (<paramref name="getVariable"/> defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>).
    /// </summary>
    public static SessionStartRequest WithDefaults(SessionStartRequest request, Func<string, string?>? getVariable = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var env = getVariable ?? Environment.GetEnvironmentVariable;
        string? Or(string? given, string name) => string.IsNullOrWhiteSpace(given) ? NullIfEmpty(env(name)) : given;
        var given = request.Fields;
        return new SessionStartRequest
        {
            Id = Or(request.Id, SessionId),
            Fields = new()
            {
                User = Or(given.User, UserName),
                Stack = Or(given.Stack, StackName),
                Fleet = Or(given.Fleet, Fleet),
                AccessMode = Or(given.AccessMode, AccessMode),
                ReservationTime = Or(given.ReservationTime, ReservationTime),
                InstanceType = Or(given.InstanceType, InstanceType),
                Region = Or(given.Region, Region),
                ImageArn = Or(given.ImageArn, ImageArn),
            },
        };
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
