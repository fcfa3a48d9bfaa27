using System.Net;
using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.Firehose;
using SessionTrail.Agent.Sinks.OpenSearch;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// Deterministic mutation fuzzing of the responses the OpenSearch and Firehose sinks parse: flipped,
/// dropped and inserted bytes and truncations of well-formed answers. The sink must answer with a result
/// (no exception), and must never report success for a response it could not read as JSON.
/// </summary>
public sealed class ResponseFuzzTests : IDisposable
{
    private const int Iterations = 1500;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class CannedHandler : HttpMessageHandler
    {
        public byte[] Body { get; set; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Body) });
    }

    private static readonly byte[] JsonBytes = "{}[]\",:0123456789tfn"u8.ToArray();

    private static byte[] Mutate(byte[] original, Random random) => ByteMutator.Mutate(original, random, random.Next(1, 4), JsonBytes);

    private static bool IsJson(byte[] body)
    {
        try
        {
            using var _ = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task FuzzAsync(ISink sink, CannedHandler handler, string valid, List<ReadOnlyMemory<byte>> lines, int seed)
    {
        var random = new Random(seed);
        var original = Encoding.UTF8.GetBytes(valid);
        handler.Body = original;
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines, CancellationToken.None)).Outcome);
        var outcomes = new Dictionary<SinkOutcome, int>();
        for (var i = 0; i < Iterations; i++)
        {
            handler.Body = Mutate(original, random);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            SinkResult result;
            try
            {
                result = await sink.SendAsync(lines, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                // A mutated answer that keeps asking for resends: the sink retries until stopped, as it should.
                continue;
            }

            outcomes[result.Outcome] = outcomes.GetValueOrDefault(result.Outcome) + 1;
            if (result.Outcome == SinkOutcome.Success)
            {
                Assert.True(IsJson(handler.Body), "success reported for a response that is not JSON: " + Encoding.UTF8.GetString(handler.Body));
            }
        }

        Assert.True(outcomes.GetValueOrDefault(SinkOutcome.Retryable) > Iterations / 10, "most mutations should be refused: " + string.Join(", ", outcomes));
    }

    [Fact]
    public async Task OpenSearchBulkResponses()
    {
        var handler = new CannedHandler();
        var options = OpenSearchSinkFactory.Options(Node("{\"Url\":\"http://127.0.0.1:9/\"}"), Context(_dir.Path)) with
        {
            RetryInitialDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(2),
            MaxAttempts = 3,
        };
        using var sink = new OpenSearchSink(options, Context(_dir.Path), handler);
        const string valid = "{\"took\":3,\"errors\":true,\"items\":[{\"create\":{\"_index\":\"i\",\"_id\":\"log-000001\",\"status\":201}},"
            + "{\"create\":{\"_index\":\"i\",\"_id\":\"log-000002\",\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"exists\"}}}]}";
        await FuzzAsync(sink, handler, valid, Lines(1, 2), seed: 4);
    }

    [Fact]
    public async Task FirehosePutRecordBatchResponses()
    {
        var handler = new CannedHandler();
        var options = FirehoseSinkFactory.Options(Node("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\",\"AccessKey\":\"a\",\"SecretKey\":\"b\"}"), Context(_dir.Path)) with
        {
            RetryInitialDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(2),
            MaxAttempts = 3,
        };
        using var sink = new FirehoseSink(options, Context(_dir.Path), handler);
        const string valid = "{\"Encrypted\":false,\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"r1\"},{\"RecordId\":\"r2\"}]}";
        await FuzzAsync(sink, handler, valid, Lines(1, 2), seed: 7);
    }
}
