using System.Diagnostics;

namespace SessionTrail.Core.Tests;

/// <summary><see cref="DataAccess"/> on real folders: the start-up pass that brings a tree to its modes, and how a command finds a directory's group.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DataAccessTests : IDisposable
{
    private const UnixFileMode Loose = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode LooseFile = (UnixFileMode)0b110_100_100; // 0644
    private readonly string _root = Directory.CreateTempSubdirectory("st-access-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("st-outside-").FullName;

    private string Data => Path.Combine(_root, "data");

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    /// <summary>What an older version left under umask 022: a database, a queue, a signing key; and a link to a file elsewhere.</summary>
    private void MakeLooseTree()
    {
        foreach (var dir in new[] { "", "agent", "agent/queues", "agent/queues/server", "server-keys" })
        {
            Directory.CreateDirectory(Path.Combine(Data, dir));
            File.SetUnixFileMode(Path.Combine(Data, dir), Loose);
        }

        foreach (var file in new[] { "sessiontrail.db", "sessiontrail.db-wal", "agent/queues/server/cursor", "agent/up-token", "server-keys/recording-signing.pem" })
        {
            File.WriteAllText(Path.Combine(Data, file), "x");
            File.SetUnixFileMode(Path.Combine(Data, file), LooseFile);
        }

        var elsewhere = Path.Combine(_outside, "shared.log");
        File.WriteAllText(elsewhere, "x");
        File.SetUnixFileMode(elsewhere, LooseFile);
        File.CreateSymbolicLink(Path.Combine(Data, "agent", "link"), elsewhere);
    }

    private Dictionary<string, UnixFileMode> Modes() =>
        Directory.EnumerateFileSystemEntries(Data, "*", SearchOption.AllDirectories).Prepend(Data)
            .Where(p => new FileInfo(p).LinkTarget is null)
            .ToDictionary(p => Path.GetRelativePath(Data, p), File.GetUnixFileMode);

    [Fact]
    public void A_loose_tree_becomes_owner_only_and_the_pass_says_how_many_and_which()
    {
        MakeLooseTree();

        var changes = DataAccess.OwnerOnly.Tighten(Data, DataDirectory.Secrets(Data));

        Assert.Equal(10, changes.Count);
        Assert.Equal($"{Data} was 0755, now 0700", changes.ExampleText);
        Assert.All(Modes(), m => Assert.Equal(File.GetAttributes(Path.Combine(Data, m.Key)).HasFlag(FileAttributes.Directory) ? DataAccess.OwnerDirectoryMode : DataAccess.OwnerFileMode, m.Value));
        Assert.Equal(LooseFile, File.GetUnixFileMode(Path.Combine(_outside, "shared.log"))); // a link is not followed
        Assert.Equal(0, DataAccess.OwnerOnly.Tighten(Data, DataDirectory.Secrets(Data)).Count);
    }

    [Fact]
    public void With_a_group_folders_are_2750_and_files_0640_but_secrets_stay_0700_and_0600()
    {
        MakeLooseTree();
        var access = DataAccess.ForGroup(PrimaryGroup());

        var changes = access.Tighten(Data, DataDirectory.Secrets(Data));

        Assert.Equal(10, changes.Count);
        var modes = Modes();
        Assert.Equal((UnixFileMode)0b010_111_101_000, modes["."]);
        Assert.Equal((UnixFileMode)0b010_111_101_000, modes["agent/queues/server"]);
        Assert.Equal((UnixFileMode)0b110_100_000, modes["sessiontrail.db"]);
        Assert.Equal((UnixFileMode)0b110_100_000, modes["agent/queues/server/cursor"]);
        Assert.Equal(DataAccess.OwnerDirectoryMode, modes["server-keys"]);
        Assert.Equal(DataAccess.OwnerFileMode, modes["server-keys/recording-signing.pem"]);
        Assert.Equal(DataAccess.OwnerFileMode, modes["agent/up-token"]);

        // Commands that only add to the directory follow it; owner-only again once the group is dropped.
        Assert.Equal(access.GroupId, DataAccess.Of(Data).GroupId);
        Assert.Equal(7, DataAccess.OwnerOnly.Tighten(Data, DataDirectory.Secrets(Data)).Count); // not the secrets: they were owner-only already
        Assert.Same(DataAccess.OwnerOnly, DataAccess.Of(Data));
    }

    [Fact]
    public void A_data_directory_given_as_a_symbolic_link_is_tightened_where_it_points()
    {
        MakeLooseTree();
        var link = Path.Combine(_root, "state-link"); // systemd's DynamicUser state folders are links
        Directory.CreateSymbolicLink(link, Data);

        var changes = DataAccess.OwnerOnly.Tighten(link, DataDirectory.Secrets(link));

        Assert.Equal(10, changes.Count);
        Assert.Equal(DataAccess.OwnerDirectoryMode, File.GetUnixFileMode(Data));
        Assert.Equal(DataAccess.OwnerFileMode, File.GetUnixFileMode(Path.Combine(Data, "agent", "up-token")));
        Assert.Equal(0, changes.RefusedCount);
    }

    [Fact]
    public void In_a_folder_that_holds_other_things_only_sessiontrails_own_entries_are_touched()
    {
        MakeLooseTree();
        var script = Path.Combine(Data, "bin", "tool.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(script)!);
        File.WriteAllText(script, "#!/bin/sh\n");
        File.SetUnixFileMode(script, Loose);
        File.SetUnixFileMode(Path.GetDirectoryName(script)!, Loose);

        var changes = DataAccess.OwnerOnly.Tighten(Data, DataDirectory.Secrets(Data), DataDirectory.IsOwnEntry);

        Assert.Equal(Path.Combine(Data, "bin"), changes.Foreign);
        Assert.Equal(9, changes.Count); // the 10 of a tree of its own, less the folder itself
        Assert.Equal((Loose, Loose, Loose), (File.GetUnixFileMode(Data), File.GetUnixFileMode(Path.Combine(Data, "bin")), File.GetUnixFileMode(script)));
        Assert.Equal(DataAccess.OwnerFileMode, File.GetUnixFileMode(Path.Combine(Data, "sessiontrail.db")));
        Assert.Equal(DataAccess.OwnerDirectoryMode, File.GetUnixFileMode(Path.Combine(Data, "agent", "queues", "server")));

        // A folder of SessionTrail's own alone is tightened itself too.
        Directory.Delete(Path.Combine(Data, "bin"), recursive: true);
        Assert.Null(DataAccess.OwnerOnly.Tighten(Data, DataDirectory.Secrets(Data), DataDirectory.IsOwnEntry).Foreign);
        Assert.Equal(DataAccess.OwnerDirectoryMode, File.GetUnixFileMode(Data));
    }

    [Fact]
    public void A_directory_that_does_not_exist_yet_is_owner_only()
    {
        Assert.Same(DataAccess.OwnerOnly, DataAccess.Of(Path.Combine(_root, "missing")));
        Assert.Equal(0, DataAccess.OwnerOnly.Tighten(Path.Combine(_root, "missing"), []).Count);
    }

    [Fact]
    public void An_unknown_group_is_an_error_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => DataAccess.ForGroup("no-such-group-st"));
        Assert.StartsWith("no group 'no-such-group-st' on this machine", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_made_through_it_get_the_mode_whatever_the_umask()
    {
        var access = DataAccess.OwnerOnly;
        access.CreateDirectory(Path.Combine(_root, "made", "deep"));
        var file = Path.Combine(_root, "made", "deep", "file");
        using (new FileStream(file, access.Options(FileMode.CreateNew, FileAccess.Write)))
        {
        }

        Assert.Equal(DataAccess.OwnerDirectoryMode, File.GetUnixFileMode(Path.Combine(_root, "made")));
        Assert.Equal(DataAccess.OwnerDirectoryMode, File.GetUnixFileMode(Path.Combine(_root, "made", "deep")));
        Assert.Equal(DataAccess.OwnerFileMode, File.GetUnixFileMode(file));
    }

    /// <summary>The name of this process's group: one it may give its files without being root.</summary>
    private static string PrimaryGroup()
    {
        using var id = Process.Start(new ProcessStartInfo("id", "-gn") { RedirectStandardOutput = true })!;
        var name = id.StandardOutput.ReadToEnd().Trim();
        id.WaitForExit();
        return name;
    }
}
