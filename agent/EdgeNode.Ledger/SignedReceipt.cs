using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeNode.Ledger;

/// <summary>
/// A receipt and its signature in one header-safe string: base64url(payload JSON) "." base64url(signature), the
/// signature ECDSA P-256 over the payload's exact bytes (IEEE P1363, 64 bytes). The bytes are signed, not a
/// re-serialization, so a verifier never has to reproduce the signer's JSON.
/// </summary>
public static class SignedReceipt
{
    public static string Encode(byte[] payload, byte[] signature) =>
        Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature);

    public static byte[] Payload(Receipt receipt) => JsonSerializer.SerializeToUtf8Bytes(receipt, LedgerJsonContext.Default.Receipt);

    /// <summary>Splits and decodes; throws <see cref="ReceiptFormatException"/> naming what is malformed.</summary>
    public static (Receipt Receipt, byte[] Payload, byte[] Signature) Decode(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == text.Length - 1 || text.IndexOf('.', dot + 1) >= 0)
            throw new ReceiptFormatException("a receipt is two base64url parts joined by one '.': payload.signature");
        byte[] payload, signature;
        try
        {
            payload = Base64Url.DecodeFromChars(text.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(text.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            throw new ReceiptFormatException("a receipt part is not base64url");
        }
        Receipt? receipt;
        try
        {
            receipt = JsonSerializer.Deserialize(payload, LedgerJsonContext.Default.Receipt);
        }
        catch (JsonException e)
        {
            throw new ReceiptFormatException($"the receipt's payload is not a receipt: {e.Message.Split(". ")[0]}");
        }
        if (receipt is null)
            throw new ReceiptFormatException("the receipt's payload is null");
        return (receipt, payload, signature);
    }

    public static bool Verify(byte[] subjectPublicKeyInfo, byte[] payload, byte[] signature)
    {
        using var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        }
        catch (CryptographicException)
        {
            return false;
        }
        return key.KeySize == 256 && key.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}

public sealed class ReceiptFormatException(string message) : Exception(message);
