using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// What identifies a file across renames: device + inode on Linux (stat), volume serial + file index on
/// Windows (GetFileInformationByHandle). A reused inode is told apart by <see cref="FileFingerprint"/>.
/// </summary>
public readonly record struct FileIdentity(ulong Device, ulong Index)
{
    public override string ToString() =>
        Device.ToString("x", CultureInfo.InvariantCulture) + ":" + Index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The identity and current size of the file at <paramref name="path"/>; false when it cannot be read (gone, no access, not a regular file).</summary>
    public static bool TryGet(string path, out FileIdentity identity, out long size)
    {
        if (HostOs.IsWindows)
        {
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                return TryGet(handle, out identity, out size);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                identity = default;
                size = 0;
                return false;
            }
        }

        return LinuxStat.TryStat(path, out identity, out size);
    }

    /// <summary>The identity and current size of an open file.</summary>
    public static bool TryGet(SafeFileHandle handle, out FileIdentity identity, out long size)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (HostOs.IsWindows)
        {
            if (WindowsFileInfo.TryGet(handle, out var volume, out var index))
            {
                identity = new FileIdentity(volume, index);
                size = RandomAccess.GetLength(handle);
                return true;
            }

            identity = default;
            size = 0;
            return false;
        }

        return LinuxStat.TryFstat(handle, out identity, out size);
    }
}

/// <summary>stat/fstat from libc. Only st_dev (offset 0), st_ino (8) and st_size (48) are read: the same offsets on x86-64 and arm64.</summary>
internal static unsafe class LinuxStat
{
    private const int StatBufferBytes = 256;
    private const int SizeOffset = 48;
    private const int S_IFMT = 0xF000;
    private const int S_IFREG = 0x8000;

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int stat(byte* path, byte* buf);

    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static extern int fstat(int fd, byte* buf);

    public static bool TryStat(string path, out FileIdentity identity, out long size)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        var buf = stackalloc byte[StatBufferBytes];
        fixed (byte* p = bytes)
        {
            if (stat(p, buf) != 0)
            {
                identity = default;
                size = 0;
                return false;
            }
        }

        return Read(buf, out identity, out size);
    }

    public static bool TryFstat(SafeFileHandle handle, out FileIdentity identity, out long size)
    {
        var buf = stackalloc byte[StatBufferBytes];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (fstat((int)handle.DangerousGetHandle(), buf) != 0)
            {
                identity = default;
                size = 0;
                return false;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return Read(buf, out identity, out size);
    }

    private static bool Read(byte* buf, out FileIdentity identity, out long size)
    {
        identity = new FileIdentity(*(ulong*)buf, *(ulong*)(buf + 8));
        size = *(long*)(buf + SizeOffset);
        // st_mode is at 24 on x86-64 and at 16 on arm64.
        var mode = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? *(uint*)(buf + 24) : *(uint*)(buf + 16);
        return (mode & S_IFMT) == S_IFREG;
    }
}

/// <summary>GetFileInformationByHandle (Windows only; compiled everywhere, called only on Windows).</summary>
internal static unsafe class WindowsFileInfo
{
    // FILETIME is two DWORDs: 4-byte packing keeps the native layout.
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct ByHandleFileInformation
    {
        public uint FileAttributes;
        public long CreationTime;
        public long LastAccessTime;
        public long LastWriteTime;
        public uint VolumeSerialNumber;
        public uint FileSizeHigh;
        public uint FileSizeLow;
        public uint NumberOfLinks;
        public uint FileIndexHigh;
        public uint FileIndexLow;
    }

    [DllImport("kernel32.dll", SetLastError = true)]
    private static extern int GetFileInformationByHandle(SafeFileHandle file, ByHandleFileInformation* info);

    public static bool TryGet(SafeFileHandle handle, out ulong volume, out ulong index)
    {
        ByHandleFileInformation info;
        if (GetFileInformationByHandle(handle, &info) == 0)
        {
            volume = 0;
            index = 0;
            return false;
        }

        volume = info.VolumeSerialNumber;
        index = ((ulong)info.FileIndexHigh << 32) | info.FileIndexLow;
        return true;
    }
}
