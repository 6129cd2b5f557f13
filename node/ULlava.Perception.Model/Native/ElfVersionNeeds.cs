// Reads and edits the version requirements (.gnu.version_r) of an ELF64 little-endian shared library.
// Compiled twice: into the Model library (diagnostics, tests) and, by Directory.Build.targets, into an MSBuild
// inline task (netstandard2.0, hence the plain C#) that marks libLibTorchSharp.so's unused GLIBCXX_3.4.32 requirement weak in the build output.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ULlava.Perception.Model.Native
{
    /// <summary>One entry of .gnu.version_r: a version a library needs from one of its dependencies.</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string version, bool weak, long flagsOffset)
        {
            File = file;
            Version = version;
            Weak = weak;
            FlagsOffset = flagsOffset;
        }

        public string File { get; }
        public string Version { get; }
        public bool Weak { get; }
        public long FlagsOffset { get; }
    }

    public static class ElfVersionNeeds
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>Lists every version requirement of the library in <paramref name="elf"/>.</summary>
        public static List<ElfVersionNeed> Read(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only ELF64 little-endian is supported");
            long shoff = (long)U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            var needs = new List<ElfVersionNeed>();
            for (int i = 0; i < shnum; i++)
            {
                long sh = shoff + (long)i * shentsize;
                if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
                long offset = (long)U64(elf, sh + 24);
                int link = (int)U32(elf, sh + 40), count = (int)U32(elf, sh + 44);
                long strtab = (long)U64(elf, shoff + (long)link * shentsize + 24);
                long vn = offset;
                for (int n = 0; n < count; n++)
                {
                    int auxCount = U16(elf, vn + 2);
                    string file = CString(elf, strtab + U32(elf, vn + 4));
                    long aux = vn + U32(elf, vn + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        ushort flags = U16(elf, aux + 4);
                        needs.Add(new ElfVersionNeed(file, CString(elf, strtab + U32(elf, aux + 8)), (flags & VerFlagWeak) != 0, aux + 4));
                        aux += U32(elf, aux + 12);
                    }
                    vn += U32(elf, vn + 12);
                }
            }
            return needs;
        }

        /// <summary>Sets VER_FLG_WEAK on every requirement of <paramref name="version"/>; returns how many changed.</summary>
        public static int MarkWeak(byte[] elf, string version)
        {
            int changed = 0;
            foreach (var need in Read(elf))
            {
                if (need.Version != version || need.Weak) continue;
                ushort flags = (ushort)(U16(elf, need.FlagsOffset) | VerFlagWeak);
                elf[need.FlagsOffset] = (byte)flags;
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                changed++;
            }
            return changed;
        }

        /// <summary>True when one of the usual libstdc++ locations defines <paramref name="version"/>.</summary>
        public static bool SystemLibStdCxxProvides(string version)
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            };
            var pattern = Encoding.ASCII.GetBytes(version + "\0");
            foreach (var path in candidates)
            {
                if (!File.Exists(path)) continue;
                return Contains(File.ReadAllBytes(path), pattern);
            }
            return false;
        }

        private static bool Contains(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return true;
            }
            return false;
        }

        private static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
        private static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        private static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

        private static string CString(byte[] b, long o)
        {
            long end = o;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !ULLAVA_MODEL_LIBRARY
    /// <summary>
    /// MSBuild task: in each given file (a copy in bin/ or a publish folder, never the NuGet cache), mark the
    /// GLIBCXX version requirement weak when this machine's libstdc++ lacks it. The file is replaced, not written
    /// in place, so a hard link into the NuGet cache is never modified; its timestamp is kept so incremental
    /// copies skip it.
    /// </summary>
    public sealed class WeakenMissingGlibcxxRequirement : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = System.Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        [Microsoft.Build.Framework.Required]
        public string Version { get; set; } = "";

        public bool Force { get; set; }

        public override bool Execute()
        {
            if (!Force && ElfVersionNeeds.SystemLibStdCxxProvides(Version)) return true;
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path)) continue;
                var bytes = File.ReadAllBytes(path);
                if (ElfVersionNeeds.MarkWeak(bytes, Version) == 0) continue;
                var stamp = File.GetLastWriteTimeUtc(path);
                string temp = path + ".weak-glibcxx.tmp";
                File.WriteAllBytes(temp, bytes);
                File.SetLastWriteTimeUtc(temp, stamp);
                File.Delete(path); // unlink first: the old file may be a hard link into the NuGet cache
                File.Move(temp, path);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    $"{path}: {Version} requirement marked weak (this libstdc++ lacks it; the symbol that needs it is never called)");
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
