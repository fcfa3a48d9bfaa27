namespace SessionTrail.TestKit;

/// <summary>Deterministic random damage to a valid sample, for the parsers' fuzz tests.</summary>
public static class ByteMutator
{
    /// <summary>Applies up to <paramref name="mutations"/> changes: a random byte, a deletion, an <paramref name="interesting"/> byte inserted, a range cut, a range repeated.</summary>
    public static byte[] Mutate(byte[] source, Random random, int mutations, byte[] interesting)
    {
        var bytes = source.ToList();
        for (var m = 0; m < mutations && bytes.Count > 0; m++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                case 2:
                    bytes.Insert(at, interesting[random.Next(interesting.Length)]);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 20)));
                    break;
                default:
                    var from = random.Next(bytes.Count);
                    var length = Math.Min(bytes.Count - from, random.Next(1, 30));
                    bytes.InsertRange(at, bytes.GetRange(from, length));
                    break;
            }
        }

        return bytes.ToArray();
    }
}
