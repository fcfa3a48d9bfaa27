using System.Security.Cryptography;
using System.Text;
using SessionTrail.Core;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// The server's recording-manifest signing key: ECDSA P-256, kept as PKCS#8 PEM in
/// DIR/server-keys/recording-signing.pem (folder 0700, file 0600 on Unix). Created at the first start,
/// loaded afterwards. Signatures are ECDSA over SHA-256 of the manifest bytes, DER-encoded (RFC 3279,
/// what <c>openssl dgst -sha256 -verify</c> reads), transported as base64. Rotation: move the file away
/// and restart — a new key is created; keep the old public key to verify manifests signed before.
/// </summary>
public sealed class RecordingSigner : IDisposable
{
    /// <summary>File name of the key under DIR/server-keys.</summary>
    public const string KeyFileName = "recording-signing.pem";

    private readonly ECDsa key;
    private readonly Lock gate = new();

    private RecordingSigner(ECDsa key, string path)
    {
        this.key = key;
        KeyPath = path;
        PublicKeyPem = key.ExportSubjectPublicKeyInfoPem() + "\n";
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>Where the private key is.</summary>
    public string KeyPath { get; }

    /// <summary>The public key, SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").</summary>
    public string PublicKeyPem { get; }

    /// <summary>SHA-256 of the DER public key, lowercase hex: names the key in manifests.</summary>
    public string Fingerprint { get; }

    /// <summary>Loads DIR/server-keys/recording-signing.pem, creating it (0600) when it does not exist. A key file that is not an EC P-256 key is an error naming the file.</summary>
    public static RecordingSigner LoadOrCreate(string dataDir)
    {
        var folder = DataDirectory.ServerKeysDirectory(dataDir);
        var path = Path.Combine(folder, KeyFileName);
        if (!File.Exists(path))
        {
            // A secret: 0700/0600 even when a group may read the data directory.
            DataAccess.CreateSecretDirectory(folder);
            using var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var options = DataAccess.Current.Options(FileMode.CreateNew, FileAccess.Write, FileShare.Read, secret: true);

            try
            {
                using var file = new FileStream(path, options);
                file.Write(Encoding.ASCII.GetBytes(created.ExportPkcs8PrivateKeyPem() + "\n"));
                file.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: load theirs.
            }
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(File.ReadAllText(path));
            if (ecdsa.KeySize != 256)
            {
                throw new InvalidOperationException($"{path}: the recording signing key must be an EC P-256 key, this one has {ecdsa.KeySize} bits");
            }

            return new RecordingSigner(ecdsa, path);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ecdsa.Dispose();
            throw new InvalidOperationException($"{path}: not a PEM EC private key ({e.Message}); move it away to have a new key created", e);
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    /// <summary>The base64 DER ECDSA-P256-SHA256 signature of <paramref name="data"/>.</summary>
    public string Sign(byte[] data)
    {
        lock (gate)
        {
            return Convert.ToBase64String(key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }
    }

    /// <summary>True when <paramref name="signatureBase64"/> is a valid signature of <paramref name="data"/> by the key in <paramref name="publicKeyPem"/>; never throws for bad input.</summary>
    public static bool Verify(byte[] data, string signatureBase64, string publicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(publicKeyPem);
            var signature = Convert.FromBase64String(signatureBase64.Trim());
            return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or FormatException)
        {
            return false;
        }
    }

    public void Dispose() => key.Dispose();
}
