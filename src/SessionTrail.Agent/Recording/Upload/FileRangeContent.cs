using System.Net;
using System.Net.Http.Headers;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// A PATCH body read straight from a spool file: <c>length</c> bytes from <c>offset</c>, opened shared (the
/// recorder may still be appending) and streamed in 64 KiB reads — nothing is held in memory whole.
/// Throws <see cref="IOException"/> when the file is shorter than the range (it was cut or replaced).
/// </summary>
public sealed class FileRangeContent : HttpContent
{
    private readonly string _path;
    private readonly long _offset;
    private readonly long _length;

    public FileRangeContent(string path, long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _path = path;
        _offset = offset;
        _length = length;
        Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        await SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        file.Seek(_offset, SeekOrigin.Begin);
        var buffer = new byte[64 * 1024];
        var left = _length;
        while (left > 0)
        {
            var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
            if (read == 0)
            {
                throw new IOException($"{_path} ended {left} bytes before the end of the range [{_offset}, {_offset + _length}) being uploaded");
            }

            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            left -= read;
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
