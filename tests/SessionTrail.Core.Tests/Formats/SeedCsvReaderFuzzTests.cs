using System.Diagnostics;
using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>Whatever bytes a file holds, the seed CSV reader returns records and rejections: no exception, no hang.</summary>
public sealed class SeedCsvReaderFuzzTests
{
    private static readonly byte[][] Samples = SeedCulture.All
        .Select((c, i) => SeedCsvGenerator.Write(SeedCsvGenerator.Random(new Random(i), i, 6, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)), c))
        .ToArray();

    private static readonly byte[] Interesting = Encoding.UTF8.GetBytes(",,,\r\n\r\n-0123456789xT:Z.\uFEFF\u00e9session_end4688");

    [Fact]
    public void MutatedFilesNeverThrowAndEveryRowIsImportedOrRejected()
    {
        var random = new Random(20261130);
        var watch = Stopwatch.StartNew();
        var outcomes = new int[3];
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = ByteMutator.Mutate(Samples[random.Next(Samples.Length)], random, 1 + random.Next(8), Interesting);
            var result = SeedCsvReader.Read(new MemoryStream(bytes), "file-session");
            var processes = result.Records.OfType<ProcessRecord>().Count();
            var ends = result.Records.OfType<SessionRecord>().Count(s => s.Type == SessionEventType.End);
            if (!result.NotSeedCsv)
            {
                // Nothing silently dropped: each data row is a process record, a session end, or a rejection.
                Assert.Equal(result.Rows, processes + ends + result.Rejected.Count);
            }

            Assert.All(result.Rejected, r => Assert.True(r.Line >= 1 && r.Reason.Length > 0));
            Assert.Equal(result.Records.Count, result.Records.Select(r => r.Id).Distinct().Count());
            outcomes[result.NotSeedCsv ? 0 : result.Rejected.Count > 0 ? 1 : 2]++;
        }

        Assert.All(outcomes, n => Assert.True(n > 0, string.Join(",", outcomes)));
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), $"20,000 mutated files took {watch.Elapsed}");
    }

    [Fact]
    public void RandomBytesAndHugeLinesNeverThrow()
    {
        var random = new Random(11);
        for (var i = 0; i < 5_000; i++)
        {
            var body = new byte[random.Next(0, 400)];
            for (var j = 0; j < body.Length; j++)
            {
                body[j] = random.Next(3) == 0 ? (byte)random.Next(256) : Interesting[random.Next(Interesting.Length)];
            }

            byte[] withHeader = [.. Encoding.UTF8.GetBytes(SeedCsvReader.Header + "\r\n"), .. body];
            SeedCsvReader.Read(new MemoryStream(body), null);
            SeedCsvReader.Read(new MemoryStream(withHeader), null);
        }

        var huge = SeedCsvReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(SeedCsvReader.Header + "\r\n" + new string(',', 200_000) + "\r\n")), null);
        Assert.Contains("longer than", Assert.Single(huge.Rejected).Reason, StringComparison.Ordinal);
    }
}
