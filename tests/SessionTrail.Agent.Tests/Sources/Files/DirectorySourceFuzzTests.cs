using System.Text;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sources.Files;

/// <summary>
/// Random line lengths, encodings, line ends and partial writes (cut anywhere, also inside a character),
/// with rotations and restarts in between: what the source emits must be exactly what was written.
/// </summary>
public sealed class DirectorySourceFuzzTests
{
    private static readonly string[] Alphabet = ["a", "b", " ", "é", "ß", "東", "😀", "\t", "{", "\"", "\\", "#"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task WhatIsEmittedIsExactlyWhatWasWritten(int seed)
    {
        var random = new Random(seed);
        await using var h = new FileSourceHarness(new() { ["Interval"] = "20" });
        var encodings = new Encoding[]
        {
            new UTF8Encoding(false),
            new UTF8Encoding(true),
            new UnicodeEncoding(false, true),
            new UnicodeEncoding(true, true),
        };
        var expected = new Dictionary<string, List<string>>();
        var files = Enumerable.Range(0, 4).Select(i => (Name: $"f{i}.log", Encoding: encodings[random.Next(encodings.Length)])).ToList();
        var streams = files.ToDictionary(f => f.Name, f =>
        {
            var stream = new FileStream(h.PathOf(f.Name), FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            stream.Write(f.Encoding.GetPreamble());
            return stream;
        });
        var pending = files.ToDictionary(f => f.Name, _ => new List<byte>());
        h.Start();
        var generation = 0;
        for (var step = 0; step < 400; step++)
        {
            var (name, encoding) = files[random.Next(files.Count)];
            var length = random.Next(10) == 0 ? random.Next(2000, 40000) : random.Next(0, 120);
            var line = new StringBuilder();
            while (line.Length < length)
            {
                line.Append(Alphabet[random.Next(Alphabet.Length)]);
            }

            var key = h.PathOf(name) + "#" + generation;
            expected.TryAdd(key, []);
            expected[key].Add(line.ToString());
            pending[name].AddRange(encoding.GetBytes(line + (random.Next(3) == 0 ? "\r\n" : "\n")));

            // Write a random prefix of what is pending: lines arrive in pieces.
            var cut = random.Next(pending[name].Count + 1);
            streams[name].Write(pending[name].ToArray(), 0, cut);
            streams[name].Flush();
            pending[name].RemoveRange(0, cut);
            if (random.Next(20) == 0)
            {
                await Task.Delay(random.Next(30));
            }

            if (step == 150)
            {
                await h.StopAsync();
                h.Start(h.Output);
            }

            if (step == 250)
            {
                // Rotate every file by rename; new files start after the old ones are complete.
                foreach (var (n, e) in files)
                {
                    streams[n].Write(pending[n].ToArray());
                    pending[n].Clear();
                    streams[n].Dispose();
                    File.Move(h.PathOf(n), h.PathOf(n + ".old"));
                    var stream = new FileStream(h.PathOf(n), FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                    stream.Write(e.GetPreamble());
                    streams[n] = stream;
                }

                generation++;
            }
        }

        foreach (var (name, stream) in streams)
        {
            stream.Write(pending[name].ToArray());
            stream.Dispose();
        }

        var total = expected.Values.Sum(v => v.Count);
        var records = await h.SettledAsync(total, quietMs: 2500);
        foreach (var (name, _) in files)
        {
            // Channel is the path when the record was read: the old file's last records carry ".old".
            var path = h.PathOf(name);
            var want = Enumerable.Range(0, generation + 1).SelectMany(g => expected.GetValueOrDefault(path + "#" + g) ?? []).ToList();
            var got = records.Where(r => r.Channel == path || r.Channel == path + ".old").Select(r => r.Message).ToList();
            Assert.Equal(want.Count, got.Count);
            Assert.Equal(want.Order(StringComparer.Ordinal), got.Order(StringComparer.Ordinal));
        }

        Assert.Equal(total, records.Select(r => r.Id).Distinct().Count());
    }
}
