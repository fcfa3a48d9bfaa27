using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// <see cref="LogIds.For"/> for file records without its per-call string and array allocations: the
/// UTF-8 of "host\0source\0identity:fingerprint:" is kept per file and the offset is formatted after it
/// on the stack. Gives exactly the same id as <c>LogIds.For(host, source, $"{identity}:{fp}:{offset}")</c>.
/// </summary>
internal sealed class FileRecordIds(string host, string sourceId)
{
    private byte[] _prefix = [];
    private string? _prefixFile;
    private string? _prefixFingerprint;

    public string For(string fileIdentity, string fingerprint, long offset)
    {
        if (!ReferenceEquals(fingerprint, _prefixFingerprint) || !ReferenceEquals(fileIdentity, _prefixFile))
        {
            _prefix = Encoding.UTF8.GetBytes(host + "\0" + sourceId + "\0" + fileIdentity + ":" + fingerprint + ":");
            _prefixFile = fileIdentity;
            _prefixFingerprint = fingerprint;
        }

        var length = _prefix.Length + 20;
        Span<byte> buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        _prefix.CopyTo(buffer);
        offset.TryFormat(buffer[_prefix.Length..], out var written, default, CultureInfo.InvariantCulture);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer[..(_prefix.Length + written)], hash);
        Span<char> id = stackalloc char[36];
        "log-".CopyTo(id);
        Convert.TryToHexStringLower(hash[..16], id[4..], out _);
        return new string(id);
    }
}
