namespace SessionTrail.Server;

/// <summary>The JSON body of every API error: <c>{"error":"..."}</c>.</summary>
public sealed record ErrorResponse(string Error);
