using System.Security.Cryptography;
using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Ids;

/// <summary>
/// Deterministic record ids for log records: the same entry read twice (after a crash, before its
/// bookmark was saved) gets the same id, so the server, OpenSearch (`_id`) and every other sink that
/// dedupes by id store it once. Sources set <see cref="Core.Records.TrailRecord.Id"/> with this.
/// </summary>
public static class LogIds
{
    /// <summary>"log-" + 32 hex chars of SHA-256(host, source id, position), e.g. position = "inode:offset".</summary>
    public static string For(string host, string sourceId, string position)
    {
        var bytes = Encoding.UTF8.GetBytes(host + "\0" + sourceId + "\0" + position);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return "log-" + Convert.ToHexStringLower(hash[..16]);
    }
}
