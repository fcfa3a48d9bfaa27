using System.Security.Cryptography;
using SessionTrail.Core.Records;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>Segment and recording-event record builders; times are minutes after <see cref="R.T0"/>.</summary>
public static class Seg
{
    public static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static RecordingSegmentRecord Record(string session, int index, byte[] bytes, string? previousSha, string? id = null, double startMinutes = -1) =>
        Record(session, index, bytes.Length, Sha(bytes), previousSha, id, startMinutes);

    public static RecordingSegmentRecord Record(string session, int index, long length, string sha, string? previousSha, string? id = null, double startMinutes = -1)
    {
        var start = startMinutes >= 0 ? startMinutes : index * 5;
        return new RecordingSegmentRecord
        {
            Id = id ?? $"rec:{session}:{index}",
            Time = R.At(start + 5),
            Host = "h1",
            Session = session,
            Index = index,
            Start = R.At(start),
            End = R.At(start + 5),
            Width = 320,
            Height = 240,
            Fps = 5,
            Codec = "h264",
            Bytes = length,
            Sha256 = sha,
            PreviousSha256 = previousSha,
            File = $"{index:D6}.mp4",
            EndReason = SegmentEndReasons.MaxLength,
        };
    }

    public static RecordingEventRecord Event(string session, string id, string type, double minutes, string message = "") =>
        new() { Id = id, Session = session, Host = "h1", Time = R.At(minutes), Type = type, Message = message };

    /// <summary>Deterministic pseudo-random bytes (where video content does not matter).</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
