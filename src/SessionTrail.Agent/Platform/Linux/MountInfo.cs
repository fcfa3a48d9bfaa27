namespace SessionTrail.Agent.Platform.Linux;

/// <summary>One line of /proc/self/mountinfo: the device (major:minor), mount point and filesystem type.</summary>
internal readonly record struct MountEntry(string Device, string MountPoint, string FsType)
{
    /// <summary>Filesystems nothing is executed from; marking them is pointless.</summary>
    private static readonly HashSet<string> s_pseudo =
    [
        "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs",
        "pstore", "bpf", "configfs", "fusectl", "binfmt_misc", "efivarfs", "nsfs", "autofs", "rpc_pipefs",
    ];

    public bool MayHoldExecutables => !s_pseudo.Contains(FsType);

    /// <summary>
    /// Parses mountinfo text: "id parent major:minor root mountpoint options [optional...] - fstype
    /// source superoptions". Octal escapes (\040 for a space) in the mount point are decoded. Bad lines are skipped.
    /// </summary>
    public static List<MountEntry> Parse(string text)
    {
        var result = new List<MountEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 7 || dash < 6 || dash + 1 >= fields.Length)
            {
                continue;
            }

            result.Add(new MountEntry(fields[2], Unescape(fields[4]), fields[dash + 1]));
        }

        return result;
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal))
        {
            return s;
        }

        var bytes = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                bytes.Add((byte)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(s[i].ToString()));
            }
        }

        return System.Text.Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
