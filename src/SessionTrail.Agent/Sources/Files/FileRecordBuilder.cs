using System.Globalization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// Cuts the bytes of a file into lines and lines into records (single or multi-line), and makes the
/// <see cref="LogRecord"/>s. Advances the file's read and committed positions as it goes. Allocates the
/// record's message, its fields and its id; nothing per line otherwise for SingleLine.
/// </summary>
internal sealed class FileRecordBuilder(string sourceId, string host, DirectorySourceOptions options)
{
    public const string SplitField = "_split";
    public const string SplitPartField = "_splitpart";

    private readonly FileRecordParser _parser = options.Parser;
    private readonly FileRecordIds _ids = new(host, sourceId);
    private readonly Func<string, bool>? _recordStart = options.Parser.RecordStart;

    /// <summary>Over-long lines cut into pieces so far (all files).</summary>
    public long Splits { get; private set; }

    /// <summary>
    /// Handles the complete lines in <paramref name="data"/> (read at <see cref="TailedFile.ReadPos"/>),
    /// adding records to <paramref name="records"/>; returns how many bytes were consumed (the rest is a
    /// partial last line). A stretch of <see cref="DirectorySourceOptions.MaxRecordBytes"/> bytes without a
    /// line end is emitted as a piece marked "_split".
    /// </summary>
    public int Process(TailedFile file, ReadOnlySpan<byte> data, DateTimeOffset now, List<LogRecord> records)
    {
        var encoding = file.Encoding!;
        var unit = encoding.UnitBytes;
        var max = options.MaxRecordBytes;
        var pos = 0;
        while (pos < data.Length)
        {
            var rest = data[pos..];
            var newline = encoding.IndexOfNewline(rest);
            if (newline < 0)
            {
                // Cut only with a byte beyond the cut in hand: it tells whether a character continues there.
                if (rest.Length <= max)
                {
                    break;
                }

                newline = int.MaxValue;
            }

            if (newline > max)
            {
                var cut = encoding.SafeCut(rest, max);
                EmitPiece(file, rest[..cut], file.ReadPos + pos, now, records);
                pos += cut;
                continue;
            }

            var start = file.ReadPos + pos;
            HandleLine(file, rest[..newline], start, start + newline + unit, now, records);
            pos += newline + unit;
        }

        return pos;
    }

    /// <summary>Emits what a file that will not grow any more still holds: its unterminated last line and the open multi-line record.</summary>
    public void Finish(TailedFile file, ReadOnlySpan<byte> tail, DateTimeOffset now, List<LogRecord> records)
    {
        if (!tail.IsEmpty && file.Encoding is not null)
        {
            HandleLine(file, tail, file.ReadPos, file.ReadPos + tail.Length, now, records);
            file.ReadPos += tail.Length;
        }

        FlushGroup(file, now, records);
    }

    /// <summary>Emits the multi-line record being collected, if any.</summary>
    public void FlushGroup(TailedFile file, DateTimeOffset now, List<LogRecord> records)
    {
        if (!file.HasGroup)
        {
            return;
        }

        records.Add(Make(file, file.Group.ToString(), file.GroupStart, file.GroupEnd, file.GroupLine, now, parse: true));
        file.Group.Clear();
        file.HasGroup = false;
        Commit(file, file.GroupEnd, file.GroupNextLine);
    }

    /// <summary>Feeds the lines before the start position to the parser only (to learn a delimited header).</summary>
    public void Prime(TailedFile file, ReadOnlySpan<byte> data, out int consumed)
    {
        var encoding = file.Encoding!;
        consumed = 0;
        while (true)
        {
            var newline = encoding.IndexOfNewline(data[consumed..]);
            if (newline < 0)
            {
                return;
            }

            _parser.Accept(encoding.Decode(data.Slice(consumed, newline)), file.ParserState);
            consumed += newline + encoding.UnitBytes;
        }
    }

    private void HandleLine(TailedFile file, ReadOnlySpan<byte> bytes, long start, long end, DateTimeOffset now, List<LogRecord> records)
    {
        if (file.SplitPart > 0)
        {
            // The end of an over-long line: its last piece.
            EmitPiece(file, bytes, start, now, records);
            file.SplitPart = 0;
            file.NextLine++;
            Commit(file, end, file.NextLine);
            return;
        }

        var lineNumber = file.NextLine++;

        if (lineNumber <= options.SkipLines)
        {
            if (!file.HasGroup)
            {
                Commit(file, end, file.NextLine);
            }

            return;
        }

        var text = file.Encoding!.Decode(bytes);
        if (!_parser.Accept(text, file.ParserState))
        {
            if (!file.HasGroup)
            {
                Commit(file, end, file.NextLine);
            }

            return;
        }

        if (_recordStart is null)
        {
            records.Add(Make(file, text, start, end, lineNumber, now, parse: true));
            Commit(file, end, file.NextLine);
            return;
        }

        if (file.HasGroup && (_recordStart(text) || file.Group.Length + text.Length >= options.MaxRecordBytes))
        {
            FlushGroup(file, now, records);
        }

        if (file.HasGroup)
        {
            file.Group.Append('\n').Append(text);
        }
        else
        {
            file.Group.Append(text);
            file.HasGroup = true;
            file.GroupStart = start;
            file.GroupLine = lineNumber;
        }

        file.GroupEnd = end;
        file.GroupNextLine = file.NextLine;
    }

    private void EmitPiece(TailedFile file, ReadOnlySpan<byte> bytes, long start, DateTimeOffset now, List<LogRecord> records)
    {
        FlushGroup(file, now, records);
        file.SplitPart++;
        Splits++;
        var record = Make(file, file.Encoding!.Decode(bytes), start, start + bytes.Length, file.NextLine, now, parse: false);
        ((Dictionary<string, string>)record.Fields!)[SplitField] = "true";
        ((Dictionary<string, string>)record.Fields!)[SplitPartField] = file.SplitPart.ToString(CultureInfo.InvariantCulture);
        records.Add(record);
        Commit(file, start + bytes.Length, file.NextLine);
    }

    private static void Commit(TailedFile file, long offset, long line)
    {
        file.CommittedOffset = offset;
        file.CommittedLine = line;
    }

    private LogRecord Make(TailedFile file, string text, long start, long end, long lineNumber, DateTimeOffset now, bool parse)
    {
        // The file's path is the record's Channel (not repeated in every record's fields: it would double
        // the queued and stored bytes of short lines); {_filepath} / {_filename} decorations read the Channel.
        var fields = new Dictionary<string, string>(4, StringComparer.Ordinal);
        var time = parse ? _parser.Parse(text, file.ParserState, fields) : null;
        fields["_position"] = start.ToString(CultureInfo.InvariantCulture);
        fields["_linenumber"] = lineNumber.ToString(CultureInfo.InvariantCulture);
        file.EnsureHead(end);
        return new LogRecord
        {
            Id = _ids.For(file.IdentityText, file.FingerprintUpTo(end), start),
            Time = time ?? now,
            Host = host,
            Source = sourceId,
            Channel = file.Path,
            Level = _parser is SysLogParser && fields.TryGetValue(SysLogParser.SeverityField, out var severity) ? severity : null,
            Message = text,
            Fields = fields,
        };
    }
}
