namespace SessionTrail.Server.Recordings;

/// <summary>
/// A read-only, seekable view of the first <see cref="Length"/> bytes of a stream, fixed when it is made. A
/// partial recording grows while it is served: the length announced in Content-Length / Content-Range must
/// be the length actually sent, so the response reads no further than the snapshot.
/// </summary>
internal sealed class BoundedReadStream(Stream inner, long length) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => inner.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Allowed(count));

    public override int Read(Span<byte> buffer) => inner.Read(buffer[..Allowed(buffer.Length)]);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, Allowed(count), cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken);

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => inner.Position + offset,
            _ => length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        return inner.Seek(target, SeekOrigin.Begin);
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    private int Allowed(int count) => (int)Math.Clamp(length - inner.Position, 0, count);
}
