using System.Net;
using System.Net.Http.Headers;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// A PATCH body read straight from a spool file: <c>length</c> bytes from <c>offset</c>, opened shared (the
/// recorder may still be appending) and streamed in 64 KiB reads — nothing is held in memory whole.
/// Throws <see cref="SpoolFileException"/> when the file cannot be opened or read, or is shorter than the range
/// (it was cut or replaced): the segment's problem, which the uploader tells from a failed connection.
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
        FileStream file;
        try
        {
            file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpoolFileException($"{_path} cannot be opened for upload: {e.Message}", e);
        }

        await using (file)
        {
            file.Seek(_offset, SeekOrigin.Begin);
            var buffer = new byte[64 * 1024];
            var left = _length;
            while (left > 0)
            {
                int read;
                try
                {
                    read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
                }
                catch (IOException e)
                {
                    throw new SpoolFileException($"{_path} cannot be read at offset {_offset + _length - left}: {e.Message}", e);
                }

                if (read == 0)
                {
                    throw new SpoolFileException($"{_path} ended {left} bytes before the end of the range [{_offset}, {_offset + _length}) being uploaded: it shrank after the upload started");
                }

                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                left -= read;
            }
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
