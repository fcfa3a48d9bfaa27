using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Store;
using SessionTrail.Server.Tests.Recordings;

namespace SessionTrail.Server.Tests.Auth;

/// <summary>Ids are never reused: a token or account made after one was deleted gets a new id, across restarts and after the migration of an old database.</summary>
public sealed class IdReuseTests
{
    private const string Password = "correct horse battery";
    private static readonly byte[] Video = Seg.Bytes(5_000, 3);

    [Fact]
    public void RevokedTokensAndRemovedAccountsNeverLendTheirIdsAlsoAcrossRestarts()
    {
        using var dir = new TempDataDir();
        var tokenIds = new List<long>();
        var accountIds = new List<long>();
        for (var restart = 0; restart < 3; restart++)
        {
            using var store = SqliteStore.Open(dir.Path);
            var tokens = new TokenStore(store);
            var accounts = new AccountStore(store, TimeProvider.System);

            // The newest token revoked, then the next one made: the case that reused the id.
            var (auditor, _) = tokens.Issue("auditor", Role.Auditor);
            Assert.True(tokens.Revoke(auditor));
            var (viewer, _) = tokens.Issue("viewer", Role.Viewer);
            Assert.True(tokens.Revoke(viewer));
            tokenIds.AddRange([auditor, viewer]);

            accountIds.Add(accounts.Add("alice", Role.Auditor, Password).Id);
            accounts.Remove("alice");
        }

        Assert.True(tokenIds.SequenceEqual(tokenIds.Order()) && tokenIds.Distinct().Count() == tokenIds.Count, "token ids: " + string.Join(", ", tokenIds));
        Assert.True(accountIds.SequenceEqual(accountIds.Order()) && accountIds.Distinct().Count() == accountIds.Count, "account ids: " + string.Join(", ", accountIds));
    }

    [Fact]
    public async Task TheAccessAuditTellsApartATokenOrUserMadeAfterOneOfTheSameNameWasRemoved()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);

        var firstToken = await AuditedTokenReadAsync(s);
        Assert.Equal(HttpStatusCode.NoContent, (await s.Client.DeleteAsync(new Uri($"/api/v1/tokens/{firstToken}", UriKind.Relative))).StatusCode);
        var secondToken = await AuditedTokenReadAsync(s);

        var firstUser = await AuditedUserReadAsync(s);
        Assert.Equal(HttpStatusCode.NoContent, (await s.Client.DeleteAsync(new Uri("/api/v1/users/aude", UriKind.Relative))).StatusCode);
        var secondUser = await AuditedUserReadAsync(s);

        Assert.True(secondToken > firstToken, $"token ids {firstToken}, then {secondToken}");
        Assert.True(secondUser > firstUser, $"account ids {firstUser}, then {secondUser}");
        var audit = await AuditAsync(s, expected: 4);
        Assert.Equal(
            [("aude", null, secondUser), ("aude", null, firstUser), ("reader", secondToken, null), ("reader", firstToken, null)],
            audit);
    }

    [Fact]
    public void TheMigrationKeepsEveryRowAndIdAndNeverReusesAnIdTheAuditLogNames()
    {
        using var dir = new TempDataDir();
        var hash = System.Security.Cryptography.SHA256.HashData("st_kept-token"u8);
        using (var v6 = new SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(dir.Path)}"))
        {
            v6.Open();
            SqliteStore.Execute(v6, string.Concat(Enumerable.Range(1, 6).Select(Schema.MigrationSql)) + "PRAGMA user_version = 6;");
            using var insert = v6.CreateCommand();
            insert.CommandText = """
                INSERT INTO tokens(id, name, hash, created, role) VALUES(1, 'admin', x'01', 0, 'admin'), (2, 'kept', $hash, 0, 'agent'), (3, 'newest', x'03', 0, 'viewer');
                INSERT INTO accounts(id, name, hash, role, created) VALUES(1, 'root', 'h1', 'admin', 0), (4, 'aude', 'h4', 'auditor', 0);
                -- A web session left by account 6, removed by hand: its id is taken too.
                INSERT INTO web_sessions(hash, account, csrf, created, seen) VALUES(x'aa', 6, 'c', 0, 0);
                -- Token 7 was revoked before the migration; only the audit log still names it. Token 3 is revoked now.
                INSERT INTO access_audit(time, who, token_id, action) VALUES(0, 'gone', 7, 'play'), (1, 'newest', 3, 'manifest');
                DELETE FROM tokens WHERE id = 3;
                """;
            insert.Parameters.AddWithValue("$hash", hash);
            insert.ExecuteNonQuery();
        }

        using (var store = SqliteStore.Open(dir.Path))
        {
            var tokens = new TokenStore(store);
            Assert.Equal(["1 admin admin", "2 kept agent"], tokens.List().Select(t => $"{t.Id} {t.Name} {t.Role}"));
            Assert.Equal(new Caller("kept", Role.Agent, 2), tokens.Identify("st_kept-token"));
            Assert.Equal(8, tokens.Issue("after", Role.Viewer).Id);

            var accounts = new AccountStore(store, TimeProvider.System);
            Assert.Equal(["4 aude auditor", "1 root admin"], accounts.List().Select(a => $"{a.Id} {a.Name} {a.Role}"));
            Assert.Equal(7, accounts.Add("vera", Role.Viewer, Password).Id);

            using var connection = store.OpenConnection();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM access_audit";
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => delete.ExecuteNonQuery()).Message, StringComparison.Ordinal);
        }

        using (var reopened = SqliteStore.Open(dir.Path))
        {
            var tokens = new TokenStore(reopened);
            Assert.True(tokens.Revoke(8));
            Assert.Equal(9, tokens.Issue("after restart", Role.Viewer).Id);
        }
    }

    /// <summary>Makes an auditor token named "reader", reads a manifest with it (audited) and answers the token's id.</summary>
    private static async Task<long> AuditedTokenReadAsync(RecordingServer s)
    {
        var created = await s.Client.PostAsJsonAsync("/api/v1/tokens", new { name = "reader", role = Role.Auditor });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var reader = new HttpClient { BaseAddress = s.Client.BaseAddress };
        reader.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri("/api/v1/sessions/s1/recordings/manifest", UriKind.Relative))).StatusCode);
        return body.GetProperty("id").GetInt64();
    }

    /// <summary>Adds user "aude" (auditor), plays a segment as her (audited) and answers her account id.</summary>
    private static async Task<long> AuditedUserReadAsync(RecordingServer s)
    {
        using var aude = await s.Server.SignInAsync("aude", Role.Auditor);
        Assert.Equal(HttpStatusCode.OK, (await aude.Client.GetAsync(new Uri("/api/v1/sessions/s1/recordings/0?purpose=play", UriKind.Relative))).StatusCode);
        return s.Server.App.Services.GetRequiredService<AccountStore>().Find("aude")!.Id;
    }

    /// <summary>The access audit (who, tokenId, accountId), newest first, once it has <paramref name="expected"/> entries: each is written after its answer went out.</summary>
    private static async Task<List<(string? Who, long? Token, long? Account)>> AuditAsync(RecordingServer s, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var audit = JsonDocument.Parse(await s.Client.GetStringAsync(new Uri("/api/v1/audit/access", UriKind.Relative))).RootElement.EnumerateArray()
                .Select(e => (Who: e.GetProperty("who").GetString(), Token: Id(e, "tokenId"), Account: Id(e, "accountId")))
                .ToList();
            if (audit.Count >= expected || DateTime.UtcNow > deadline)
            {
                return audit;
            }

            await Task.Delay(50);
        }
    }

    private static long? Id(JsonElement entry, string name) => entry.GetProperty(name).ValueKind == JsonValueKind.Null ? null : entry.GetProperty(name).GetInt64();
}
