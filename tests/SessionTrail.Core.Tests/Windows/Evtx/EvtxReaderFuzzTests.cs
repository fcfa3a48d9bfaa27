using System.Diagnostics;
using SessionTrail.Core.Windows.Evtx;
using static SessionTrail.Core.Tests.Windows.Evtx.EvtxCorruption;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>
/// Deterministic random damage to the real file (flipped bytes, zeroed and copied ranges, cuts), with and
/// without repaired checksums (so the damage reaches the BinXml parser): the reader must finish each case
/// within a time bound, throw nothing, and report only its own clear errors (never an "internal" one,
/// which would mean a bounds check was missed).
/// </summary>
public class EvtxReaderFuzzTests
{
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1, 150, false)]
    [InlineData(2, 150, true)]
    public void Damaged_whole_files_never_throw_or_hang(int seed, int cases, bool repairChecksums) =>
        Fuzz(EvtxTestData.Tchopper(), seed, cases, repairChecksums, focus: null);

    [Theory]
    [InlineData(3, 1500)]
    [InlineData(4, 1500)]
    public void Damaged_binxml_never_throws_or_hangs(int seed, int cases)
    {
        // Header + the first chunk only: every case damages the BinXml of chunk 0 (templates, names, values).
        var small = EvtxTestData.Tchopper()[..ChunkAt(1)];
        var reasons = Fuzz(small, seed, cases, repairChecksums: true, focus: (ChunkAt(0) + 512, ChunkAt(0) + 8192));

        // The damage reaches the parser: many different BinXml errors, not just one kind.
        Assert.True(reasons.Count >= 10, "distinct errors: " + string.Join(" | ", reasons));
    }

    private static HashSet<string> Fuzz(byte[] original, int seed, int cases, bool repairChecksums, (int From, int To)? focus)
    {
        var reasons = new HashSet<string>(StringComparer.Ordinal);
        var random = new Random(seed);
        var slowest = TimeSpan.Zero;
        for (var n = 0; n < cases; n++)
        {
            var bytes = Mutate(original, random, focus);
            if (repairChecksums)
            {
                FixChecksums(bytes);
            }

            var watch = Stopwatch.StartNew();
            var run = Task.Run(() => EvtxReaderRealFileTests.ReadAll(bytes));
            Assert.True(run.Wait(PerCase), $"seed {seed} case {n}: no result in {PerCase.TotalSeconds} s");
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            var (events, errors, _) = run.Result;
            Assert.True(events.Count + errors.Count <= 2 * 735 + 64, $"seed {seed} case {n}: {events.Count} events, {errors.Count} errors");
            foreach (var error in errors)
            {
                Assert.False(error.Reason.StartsWith("internal", StringComparison.Ordinal), $"seed {seed} case {n}: {error.Message}");
                Assert.InRange(error.Offset, 0, bytes.Length);
                reasons.Add(new string(error.Reason.TakeWhile(c => !char.IsAsciiDigit(c)).ToArray()));
            }

            foreach (var e in events)
            {
                Assert.False(string.IsNullOrEmpty(e.Computer));
                Assert.False(string.IsNullOrEmpty(e.Provider));
                WindowsEventLogRecordsFuzz.MapsAndRoundTrips(e);
            }
        }

        Assert.True(slowest < PerCase);
        return reasons;
    }

    private static byte[] Mutate(byte[] original, Random random, (int From, int To)? focus)
    {
        var bytes = (byte[])original.Clone();
        var (from, to) = focus ?? (0, bytes.Length);
        var kind = random.Next(6);
        switch (kind)
        {
            case 0: // flip a few bytes
            case 1:
                for (var i = random.Next(1, 12); i > 0; i--)
                {
                    bytes[random.Next(from, to)] ^= (byte)random.Next(1, 256);
                }

                break;
            case 2: // set a byte to an edge value (0x00, 0xff, token values)
                byte[] edges = [0x00, 0xff, 0x01, 0x41, 0x0c, 0x0d, 0x0e, 0x21, 0x81, 0x7f];
                for (var i = random.Next(1, 6); i > 0; i--)
                {
                    bytes[random.Next(from, to)] = edges[random.Next(edges.Length)];
                }

                break;
            case 3: // zero a range
                var start = random.Next(from, to);
                bytes.AsSpan(start, Math.Min(random.Next(1, 600), bytes.Length - start)).Clear();
                break;
            case 4: // copy one range over another
                var source = random.Next(from, to);
                var target = random.Next(from, to);
                var length = Math.Min(random.Next(1, 400), Math.Min(bytes.Length - source, bytes.Length - target));
                original.AsSpan(source, length).CopyTo(bytes.AsSpan(target));
                break;
            default: // cut the file
                return bytes[..random.Next(0, bytes.Length)];
        }

        return bytes;
    }
}
