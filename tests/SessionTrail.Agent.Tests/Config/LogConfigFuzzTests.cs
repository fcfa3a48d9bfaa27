using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Config;

/// <summary>Deterministic mutations of real configs: the loader reports problems, it never throws or hangs.</summary>
public sealed class LogConfigFuzzTests
{
    private static readonly string Here = Path.Combine(AppContext.BaseDirectory, "Config");

    private static readonly string[] Pieces = ["\"", "“", "”", "{", "}", "[", "]", ",", ":", "=", ";", "{appstreamVariables}", "{session:", "{env:", "\u00A0", "\\", "null", "0", "-1", "\"SinkType\"", "\"Type\"", "(", "*", "\n"];

    private static byte[] Mutate(byte[] original, Random random)
    {
        var text = new StringBuilder(Encoding.UTF8.GetString(original));
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits && text.Length > 0; e++)
        {
            var at = random.Next(text.Length);
            switch (random.Next(3))
            {
                case 0:
                    text.Remove(at, Math.Min(random.Next(1, 12), text.Length - at));
                    break;
                case 1:
                    text.Insert(at, Pieces[random.Next(Pieces.Length)]);
                    break;
                default:
                    text[at] = (char)random.Next(32, 0x2100);
                    break;
            }
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public void MutatedConfigsGiveProblemsNeverExceptions()
    {
        var samples = new[] { "seed-appsettings.json", "seed-appsettings-typographic.json" }
            .Select(f => File.ReadAllBytes(Path.Combine(Here, f)))
            .Append(Encoding.UTF8.GetBytes("""
                { "Sources": [ { "Id": "s", "SourceType": "Counter", "Count": 5 } ],
                  "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "r" }, { "Id": "st", "SinkType": "SessionTrail", "ObjectDecoration": "u={session:user};t={timestamp:yyyy}" } ],
                  "Pipes": [ { "Id": "p", "SourceRef": "s", "SinkRef": "st", "Type": "RegexFilterPipe", "FilterPattern": "^x", "Field": "Level" } ] }
                """))
            .ToList();
        var random = new Random(20261130);
        var withErrors = 0;
        for (var i = 0; i < 3000; i++)
        {
            var input = Mutate(samples[i % samples.Count], random);
            LogShippingPlan plan;
            try
            {
                plan = LogConfigLoader.LoadBytes(input, "fuzz.json", TestPlugins.Registry(), "http://127.0.0.1:5080", _ => null);
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutation {i} threw {ex.GetType().Name}: {ex.Message}\n{Encoding.UTF8.GetString(input)}");
                return;
            }

            Assert.All(plan.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Path)));
            withErrors += plan.HasErrors ? 1 : 0;
        }

        Assert.InRange(withErrors, 1000, 3000);
    }

    [Fact]
    public void RandomDecorationsParseOrFailWithAConfigError()
    {
        var random = new Random(7);
        const string alphabet = "ab=;{}:$_ \u00A0envsiotmpAppStream_UserName";
        for (var i = 0; i < 5000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            try
            {
                var decoration = ObjectDecoration.Parse(text, "Sinks:0:ObjectDecoration", _ => null);
                _ = decoration.Evaluate(new Core.Records.LogRecord { Time = DateTimeOffset.UnixEpoch, Host = "h", Source = "s", Message = "m" }, null);
            }
            catch (LogConfigException ex)
            {
                Assert.Equal("Sinks:0:ObjectDecoration", ex.Path);
            }
        }
    }
}
