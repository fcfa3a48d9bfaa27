using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks;

/// <summary>An AWS key pair (and session token for temporary credentials) and where it came from.</summary>
public sealed record AwsCredentials(string AccessKey, string SecretKey, string? SessionToken, string Origin)
{
    /// <summary>
    /// The credentials of a sink entry, in this order: its <c>AccessKey</c> + <c>SecretKey</c> (+
    /// <c>SessionToken</c>); the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN);
    /// the profile <c>ProfileName</c> (else AWS_PROFILE, else "default") of the shared credentials file
    /// (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials). Null when none is found and no ProfileName was
    /// given (the caller decides); a ProfileName that is not in the file throws <see cref="LogConfigException"/>.
    /// </summary>
    public static AwsCredentials? Resolve(ConfigNode config, Func<string, string?>? environment = null, string? credentialsFile = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        environment ??= Environment.GetEnvironmentVariable;
        var accessKey = config.Optional("AccessKey");
        var secretKey = config.Optional("SecretKey");
        if (accessKey is not null || secretKey is not null)
        {
            return new AwsCredentials(
                accessKey ?? throw new LogConfigException(config.KeyPath("AccessKey"), "is required when SecretKey is set"),
                secretKey ?? throw new LogConfigException(config.KeyPath("SecretKey"), "is required when AccessKey is set"),
                config.Optional("SessionToken"),
                config.KeyPath("AccessKey"));
        }

        var profile = config.Optional("ProfileName");
        if (profile is null && environment("AWS_ACCESS_KEY_ID") is { Length: > 0 } envKey && environment("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } envSecret)
        {
            return new AwsCredentials(envKey, envSecret, environment("AWS_SESSION_TOKEN") is { Length: > 0 } token ? token : null, "the AWS_* environment");
        }

        var file = credentialsFile ?? environment("AWS_SHARED_CREDENTIALS_FILE") ?? DefaultCredentialsFile(environment);
        var name = profile ?? environment("AWS_PROFILE") ?? "default";
        var profiles = file is not null && File.Exists(file) ? ReadIni(file) : [];
        if (profiles.TryGetValue(name, out var values)
            && values.TryGetValue("aws_access_key_id", out var key) && values.TryGetValue("aws_secret_access_key", out var secret))
        {
            return new AwsCredentials(key, secret, values.GetValueOrDefault("aws_session_token"), $"profile '{name}' of {file}");
        }

        if (profile is not null)
        {
            throw new LogConfigException(config.KeyPath("ProfileName"), $"'{profile}' is not a profile with aws_access_key_id and aws_secret_access_key in {file ?? "~/.aws/credentials"}");
        }

        return null;
    }

    /// <summary>
    /// Reads an AWS shared credentials file (INI): <c>[name]</c> sections of <c>key = value</c> lines;
    /// <c>#</c> and <c>;</c> start comment lines. Section and key names are case-sensitive, values trimmed.
    /// </summary>
    public static Dictionary<string, Dictionary<string, string>> ReadIni(string path)
    {
        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? section = null;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                var name = line[1..^1].Trim();
                if (name.StartsWith("profile ", StringComparison.Ordinal))
                {
                    name = name["profile ".Length..].Trim();
                }

                if (!result.TryGetValue(name, out section))
                {
                    section = new Dictionary<string, string>(StringComparer.Ordinal);
                    result[name] = section;
                }

                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (section is not null && equals > 0)
            {
                section[line[..equals].Trim()] = line[(equals + 1)..].Trim();
            }
        }

        return result;
    }

    private static string? DefaultCredentialsFile(Func<string, string?> environment)
    {
        var home = environment("HOME") ?? environment("USERPROFILE");
        return home is null ? null : Path.Combine(home, ".aws", "credentials");
    }
}
