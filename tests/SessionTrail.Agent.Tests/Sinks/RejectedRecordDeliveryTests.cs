using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.Server.Auth;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// The real server (in process) refuses a batch whole when one record is bad (here a time before 2000, e.g.
/// a journal entry logged before the clock was set); the agent must still deliver the others of that batch
/// and dead-letter only the bad one.
/// </summary>
public sealed class RejectedRecordDeliveryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ARecordTheServerRefusesIsDeadLetteredAloneAndTheRestOfItsBatchIsStored()
    {
        var options = new ServerOptions { DataDir = Path.Combine(_dir.Path, "server"), Urls = "http://127.0.0.1:0" };
        await using var app = ServerApp.Build(options, ["--Logging:LogLevel:Default=Critical"]);
        await app.StartAsync();
        var token = app.Services.GetRequiredService<TokenStore>().Create("agent");
        using var queue = DiskQueue.Open(Path.Combine(_dir.Path, "queue"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < 300; i++)
        {
            await queue.EnqueueAsync(NdjsonWriter.ToLine(new ProcessRecord
            {
                Id = "agent:" + i.ToString(CultureInfo.InvariantCulture),
                Time = i == 137 ? new DateTimeOffset(1970, 1, 1, 0, 0, 5, TimeSpan.Zero) : T0.AddSeconds(i), // 137: before the clock was set
                Host = "h1", Type = ProcessEventType.Start, Pid = 1000 + i, Executable = "/usr/bin/tool",
            }), CancellationToken.None);
        }

        using var sink = new SessionTrailServerSink(new Uri(ServerApp.Addresses(app)[0]), token, NullLogger.Instance);
        var deadLetters = Path.Combine(_dir.Path, "dead-letter");
        var sender = new SinkSender(sink, queue, 500, 4 << 20, new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), random: () => 0), deadLetters, TimeProvider.System, NullLogger.Instance);

        await sender.RunAsync(new CancellationToken(canceled: true), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        using var connection = app.Services.GetRequiredService<SessionTrail.Server.Store.SqliteStore>().OpenConnection();
        using var ids = connection.CreateCommand();
        ids.CommandText = "SELECT id FROM process_events";
        var stored = new List<string>();
        using (var reader = ids.ExecuteReader())
        {
            while (reader.Read())
            {
                stored.Add(reader.GetString(0));
            }
        }

        Assert.Equal(Enumerable.Range(0, 300).Where(i => i != 137).Select(i => "agent:" + i.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        var deadLetter = File.ReadAllLines(Path.Combine(deadLetters, "server.ndjson"));
        Assert.Equal(2, deadLetter.Length);
        Assert.Contains("'time'", deadLetter[0], StringComparison.Ordinal);
        Assert.Contains("\"id\":\"agent:137\"", deadLetter[1], StringComparison.Ordinal);
        Assert.Equal(1, sender.DeadLetteredTotal);
        Assert.Equal(0, queue.GetStats().PendingRecords);
    }
}
