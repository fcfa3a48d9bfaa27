using System.Text;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sources.Files;

/// <summary>Config keys of DirectorySource, and the small pieces (file name filter, encodings) on their own.</summary>
public sealed class DirectorySourceFactoryTests
{
    private static LogConfigException ConfigError(Dictionary<string, string?> values)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Id"] = "x", ["SourceType"] = "DirectorySource", ["Directory"] = "/var/log/app", ["RecordParser"] = "SingleLine" };
        foreach (var (k, v) in values)
        {
            all[k] = v;
        }

        return Assert.Throws<LogConfigException>(() => DirectorySourceFactory.ReadOptions(FileSourceHarness.Node(all), TimeProvider.System));
    }

    [Theory]
    [InlineData("Directory", null, "Config 'Sources:0:Directory' is required.")]
    [InlineData("RecordParser", null, "Config 'Sources:0:RecordParser' is required.")]
    [InlineData("RecordParser", "Xml", "Config 'Sources:0:RecordParser' must be one of SingleLine, Regex, Timestamp, SysLog, SingleLineJson, Delimited, not 'Xml'.")]
    [InlineData("Interval", "soon", "Config 'Sources:0:Interval' must be a whole number, not 'soon'.")]
    [InlineData("InitialPosition", "Middle", "Config 'Sources:0:InitialPosition' must be one of Bookmark, EOS, BOS, 0, Timestamp, not 'Middle'.")]
    [InlineData("Encoding", "latin1", "Config 'Sources:0:Encoding' must be one of detect, utf-8, utf8, utf-16, utf-16le, unicode, utf-16be, bigEndianUnicode, not 'latin1'.")]
    [InlineData("MultiLineStartPattern", "([a-", "Config 'Sources:0:MultiLineStartPattern' is not a valid regular expression")]
    [InlineData("SkipLines", "-1", "Config 'Sources:0:SkipLines' must be between 0 and")]
    [InlineData("IncludeSubdirectories", "yes", "Config 'Sources:0:IncludeSubdirectories' must be true or false, not 'yes'.")]
    public void ABadOrMissingKeyNamesItsPath(string key, string? value, string message)
    {
        var error = ConfigError(new() { [key] = value });
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParserSpecificKeysAreRequiredWithTheirParser()
    {
        Assert.Equal("Sources:0:Pattern", ConfigError(new() { ["RecordParser"] = "Regex" }).Path);
        Assert.Equal("Sources:0:TimestampFormat", ConfigError(new() { ["RecordParser"] = "Timestamp" }).Path);
        Assert.Equal("Sources:0:MultiLineStartPattern", ConfigError(new() { ["RecordParser"] = "SysLog", ["MultiLineStartPattern"] = "^x" }).Path);
        Assert.Equal("Sources:0:InitialPositionTimestamp", ConfigError(new() { ["InitialPosition"] = "Timestamp" }).Path);
    }

    [Fact]
    public void AKinesisTapEntryBuildsASourceAndUnknownKeysAreWarnings()
    {
        using var temp = new TempDir();
        var logs = new ListLogger();
        var node = FileSourceHarness.Node(new()
        {
            ["Id"] = "IISLog",
            ["SourceType"] = "DirectorySource",
            ["Directory"] = @"C:\inetpub\logs\LogFiles\W3SVC1",
            ["FileNameFilter"] = "*.log|*.txt",
            ["RecordParser"] = "Delimited",
            ["Delimiter"] = " ",
            ["CommentPattern"] = "^#",
            ["TimestampFormat"] = "yyyy-MM-dd HH:mm:ss",
            ["TimeZoneKind"] = "Local",
            ["InitialPosition"] = "Bookmark",
            ["BookmarkOnBufferFlush"] = "true",
            ["Interval"] = "500",
            ["Culture"] = "en-US",
        });
        var factory = new DirectorySourceFactory();
        Assert.Equal("DirectorySource", factory.SourceType);
        var source = factory.Create(node, new LogSourceContext("IISLog", temp.Path, "host1", new BookmarkStore(temp.Path), logs.Factory, TimeProvider.System));
        Assert.Equal("IISLog", source.Name);
        Assert.True(logs.Has("'Sources:0:Culture'"));
        Assert.False(logs.Has("'Sources:0:Delimiter'"));
    }

    [Fact]
    public void ItsMessagesKeepTheLogCategoryOperatorsFilterOn()
    {
        using var temp = new TempDir();
        var categories = new List<string>();
        using var factory = LoggerFactory.Create(b => b.AddProvider(new CategoryRecorder(categories)));
        var node = FileSourceHarness.Node(new() { ["Id"] = "app", ["SourceType"] = "DirectorySource", ["Directory"] = temp.Path, ["RecordParser"] = "SingleLine", ["Colour"] = "red" });
        new DirectorySourceFactory().Create(node, new LogSourceContext("app", temp.Path, "host1", new BookmarkStore(temp.Path), factory, TimeProvider.System));
        Assert.Equal(["SessionTrail.Agent.Logs.Files.DirectorySource"], categories.Distinct());
        Assert.Equal("SessionTrail.Agent.Logs.Config.ConfigReloader", ConfigReloader.LogCategory);
    }

    private sealed class CategoryRecorder(List<string> categories) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName)
        {
            categories.Add(categoryName);
            return Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        }

        public void Dispose()
        {
        }
    }

    [Theory]
    [InlineData("*.log|*.txt", "app.log", true)]
    [InlineData("*.log|*.txt", "NOTES.TXT", true)]
    [InlineData("*.log|*.txt", "app.log.1", false)]
    [InlineData("*.*", "README", true)]
    [InlineData("u_ex??????.log", "u_ex261130.log", true)]
    [InlineData("u_ex??????.log", "u_ex2611.log", false)]
    [InlineData("app*.log", "app.log", true)]
    [InlineData("*a*b*", "xxaxxbxx", true)]
    [InlineData("*a*b", "xxaxxbxxc", false)]
    public void FileNameFiltersMatchLikeWindowsWildcards(string filter, string name, bool match) =>
        Assert.Equal(match, new FileNamePattern(filter).IsMatch(name));

    [Theory]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, 0x41 }, FileTextEncodingKind.Utf8, 3)]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x41, 0 }, FileTextEncodingKind.Utf16LittleEndian, 2)]
    [InlineData(new byte[] { 0xFE, 0xFF, 0, 0x41 }, FileTextEncodingKind.Utf16BigEndian, 2)]
    [InlineData(new byte[] { 0x41, 0x42 }, FileTextEncodingKind.Utf8, 0)]
    public void TheEncodingIsDetectedFromTheBom(byte[] head, FileTextEncodingKind kind, int bom)
    {
        Assert.True(FileTextEncoding.TryDetect(head, FileTextEncodingKind.Detect, out var encoding, out var bomLength));
        Assert.Equal(kind, encoding.Kind);
        Assert.Equal(bom, bomLength);
    }

    [Fact]
    public void TheStartOfABomIsNotMistakenForText() =>
        Assert.False(FileTextEncoding.TryDetect([0xEF, 0xBB], FileTextEncodingKind.Detect, out _, out _));

    [Fact]
    public void CutsNeverSplitACharacter()
    {
        var utf8 = Encoding.UTF8.GetBytes("ab😀cd");
        Assert.Equal(2, FileTextEncoding.Utf8.SafeCut(utf8, 4));
        var utf16 = Encoding.Unicode.GetBytes("ab😀cd");
        Assert.Equal(4, FileTextEncoding.Utf16LittleEndian.SafeCut(utf16, 7));
        Assert.Equal(8, FileTextEncoding.Utf16LittleEndian.SafeCut(utf16, 8));
    }

    [Theory]
    [InlineData("host1", "applogs", "803:1234567", "0123456789abcdef", 0L)]
    [InlineData("ws-ÄÖ.corp", "IIS Log", "fd01:99", "", 9_876_543_210L)]
    public void FileRecordIdsEqualLogIdsOfIdentityFingerprintAndOffset(string host, string source, string identity, string fingerprint, long offset)
    {
        var ids = new FileRecordIds(host, source);
        Assert.Equal(LogIds.For(host, source, $"{identity}:{fingerprint}:{offset}"), ids.For(identity, fingerprint, offset));
        Assert.Equal(LogIds.For(host, source, $"{identity}:{fingerprint}:{offset + 1}"), ids.For(identity, fingerprint, offset + 1));
    }
}
