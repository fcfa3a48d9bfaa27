using System.Globalization;
using System.Security.Cryptography;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;

namespace SessionTrail.Agent.Ids;

/// <summary>
/// Hands out record ids "{agentId}:{sequence}". The agent id is random and kept in DIR/agent/agent-id.
/// The sequence never repeats across restarts (kill -9 included): before a number is handed out, a
/// high-water mark above it is persisted atomically in DIR/agent/sequence, a block at a time; a restart
/// continues from the persisted mark (skipping the unused rest of the block).
/// </summary>
public sealed class RecordIdGenerator
{
    /// <summary>How many sequence numbers are reserved per write of the high-water mark.</summary>
    public const long DefaultBlockSize = 10_000;

    private readonly Lock _lock = new();
    private readonly string _sequencePath;
    private readonly long _blockSize;
    private long _next;
    private long _reserved;

    private RecordIdGenerator(string agentId, string sequencePath, long next, long blockSize)
    {
        AgentId = agentId;
        _sequencePath = sequencePath;
        _next = next;
        _reserved = next;
        _blockSize = blockSize;
    }

    public string AgentId { get; }

    /// <summary>
    /// Loads or creates the agent id and sequence in <paramref name="agentDirectory"/>.
    /// Throws <see cref="IOException"/> or <see cref="InvalidDataException"/> (corrupt sequence file) on failure.
    /// </summary>
    public static RecordIdGenerator Open(string agentDirectory, long blockSize = DefaultBlockSize)
    {
        DataAccess.Current.CreateDirectory(agentDirectory);
        var agentId = LoadOrCreateAgentId(Path.Combine(agentDirectory, "agent-id"));
        var sequencePath = Path.Combine(agentDirectory, "sequence");
        long next = 1;
        if (File.Exists(sequencePath))
        {
            var text = File.ReadAllText(sequencePath).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out next) || next < 1)
            {
                throw new InvalidDataException($"Sequence file {sequencePath} is corrupt ('{text}'); refusing to reuse record ids.");
            }
        }

        return new RecordIdGenerator(agentId, sequencePath, next, blockSize);
    }

    /// <summary>The next id. Throws <see cref="IOException"/> if a new block cannot be reserved.</summary>
    public string Next()
    {
        long sequence;
        lock (_lock)
        {
            if (_next >= _reserved)
            {
                var mark = _next + _blockSize;
                AtomicFile.WriteAllText(_sequencePath, mark.ToString(CultureInfo.InvariantCulture));
                _reserved = mark;
            }

            sequence = _next++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{AgentId}:{sequence}");
    }

    /// <summary>On a clean stop: persists the exact next number, so no block is skipped.</summary>
    public void Persist()
    {
        lock (_lock)
        {
            AtomicFile.WriteAllText(_sequencePath, _next.ToString(CultureInfo.InvariantCulture));
            _reserved = _next;
        }
    }

    private static string LoadOrCreateAgentId(string path)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        AtomicFile.WriteAllText(path, id + "\n");
        return id;
    }
}
