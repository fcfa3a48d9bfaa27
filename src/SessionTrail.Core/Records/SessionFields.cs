namespace SessionTrail.Core.Records;

/// <summary>
/// What is known about a session besides its id and times: the fields of DESIGN.md "Session", from the
/// AppStream session variables. One value wherever a session is described — a <see cref="SessionRecord"/>
/// (NDJSON names user, stack, fleet, accessMode, reservationTime, instanceType, region, imageArn), the store's
/// session rows, an Athena object's session columns — so that passing a session on copies one value, not
/// eight fields. Every field is optional; <c>default</c> knows none.
/// </summary>
public readonly record struct SessionFields
{
    /// <summary>AppStream_UserName.</summary>
    public string? User { get; init; }

    /// <summary>AppStream_Stack_Name.</summary>
    public string? Stack { get; init; }

    /// <summary>AppStream_Resource_Name (the fleet).</summary>
    public string? Fleet { get; init; }

    /// <summary>AppStream_User_Access_Mode (the seed's auth_type).</summary>
    public string? AccessMode { get; init; }

    /// <summary>AppStream_Session_Reservation_DateTime, as given.</summary>
    public string? ReservationTime { get; init; }

    /// <summary>AppStream_Instance_Type.</summary>
    public string? InstanceType { get; init; }

    /// <summary>AWS_REGION.</summary>
    public string? Region { get; init; }

    /// <summary>AppStream_Image_Arn.</summary>
    public string? ImageArn { get; init; }
}
