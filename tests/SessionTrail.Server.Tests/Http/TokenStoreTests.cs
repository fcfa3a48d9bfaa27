using SessionTrail.Server.Auth;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Http;

public sealed class TokenStoreTests
{
    [Fact]
    public void ACreatedTokenValidatesAndOnlyItsHashIsStored()
    {
        using var dir = new TempDataDir();
        var token = TokenStore.CreateFor(dir.Path, "agent-1");

        using var store = SqliteStore.Open(dir.Path);
        var tokens = new TokenStore(store);
        Assert.StartsWith("st_", token, StringComparison.Ordinal);
        Assert.Equal(46, token.Length);
        Assert.True(tokens.Validate(token));
        Assert.False(tokens.Validate(token[..^1] + (token[^1] == 'a' ? 'b' : 'a')));
        Assert.False(tokens.Validate(""));
        Assert.False(tokens.Validate(null));
        Assert.DoesNotContain(token, File.ReadAllText(store.DatabasePath + "-wal") + File.ReadAllText(store.DatabasePath), StringComparison.Ordinal);
    }

    [Fact]
    public void TokensAreDifferentEachTime()
    {
        using var dir = new TempDataDir();
        using var store = SqliteStore.Open(dir.Path);
        var tokens = new TokenStore(store);

        Assert.NotEqual(tokens.Create("a"), tokens.Create("a"));
    }
}
