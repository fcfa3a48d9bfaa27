using System.Buffers;

namespace SessionTrail.Server.Http;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/> that never grows past
/// <see cref="Capacity"/> bytes: the writer sees the cap as a span that ends there. Dispose returns the array.
/// </summary>
public sealed class PooledBytes : IDisposable
{
    private byte[] array;

    /// <param name="capacity">Most bytes it will ever hold.</param>
    /// <param name="initial">First size to rent (clamped to <paramref name="capacity"/>).</param>
    public PooledBytes(long capacity, int initial = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, Array.MaxLength);
        Capacity = (int)capacity;
        array = ArrayPool<byte>.Shared.Rent(Math.Max(1, Math.Min(initial, Capacity)));
    }

    /// <summary>Most bytes it holds.</summary>
    public int Capacity { get; }

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written.</summary>
    public ReadOnlySpan<byte> Span => array.AsSpan(0, Length);

    /// <summary>The bytes written.</summary>
    public ReadOnlyMemory<byte> Memory => array.AsMemory(0, Length);

    /// <summary>True when <see cref="Capacity"/> bytes are held: no more fit.</summary>
    public bool IsFull => Length == Capacity;

    /// <summary>
    /// Room for the next bytes: at least <paramref name="sizeHint"/> (when the cap allows), never past the
    /// cap; empty when <see cref="IsFull"/>. Write into it, then <see cref="Advance"/>.
    /// </summary>
    public Memory<byte> GetMemory(int sizeHint = 16 * 1024)
    {
        var wanted = Math.Min((long)Length + Math.Max(1, sizeHint), Capacity);
        if (wanted > array.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(wanted, (long)array.Length * 2), Capacity));
            array.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(array);
            array = bigger;
        }

        return array.AsMemory(Length, Math.Min(array.Length, Capacity) - Length);
    }

    /// <summary>Counts <paramref name="count"/> bytes written into the last <see cref="GetMemory"/>.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Math.Min(array.Length, Capacity) - Length);
        Length += count;
    }

    public void Dispose()
    {
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
            array = [];
            Length = 0;
        }
    }
}
