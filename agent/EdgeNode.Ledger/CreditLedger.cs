using System.Globalization;
using Microsoft.Data.Sqlite;

namespace EdgeNode.Ledger;

/// <summary>
/// The credits ledger in SQLite (WAL, synchronous=FULL, one transaction per receipt). Accounts exist for API keys
/// (by hash) and for nodes; only an accepted receipt moves credits: the serving node earns tokens × layers ×
/// precision weight × the earn rate, the key spends tokens × the spend rate, first from its free daily floor, then
/// from its wallet (a contributor key's wallet is its node's account). A node serving its own contributor key
/// neither earns nor charges. There is no transfer: nothing moves credits between accounts but receipts.
/// A receipt is accepted once, only from a registered pool member, only with a valid signature.
/// </summary>
public sealed class CreditLedger : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private SqliteTransaction? _transaction;

    /// <param name="rates">The node's rates, recorded in the ledger; null (a reader such as `edgenode credits`) reads the recorded ones.</param>
    public CreditLedger(string path, CreditRates? rates, TimeProvider? time = null)
    {
        rates?.Validate();
        _time = time ?? TimeProvider.System;
        _db = SqliteDatabase.Open(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS members (
              node_id TEXT PRIMARY KEY,
              public_key BLOB NOT NULL,
              added_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS accounts (
              id TEXT PRIMARY KEY,
              kind TEXT NOT NULL,
              linked_node TEXT,
              balance INTEGER NOT NULL DEFAULT 0,
              earned INTEGER NOT NULL DEFAULT 0,
              spent INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS receipts (
              seq INTEGER PRIMARY KEY AUTOINCREMENT,
              node_id TEXT NOT NULL,
              request_id TEXT NOT NULL,
              key_id TEXT NOT NULL,
              wallet TEXT,
              model TEXT NOT NULL,
              tokens_in INTEGER NOT NULL,
              tokens_out INTEGER NOT NULL,
              layers INTEGER NOT NULL,
              precision TEXT NOT NULL,
              mode TEXT NOT NULL,
              time_ms INTEGER NOT NULL,
              earned INTEGER NOT NULL,
              spent INTEGER NOT NULL,
              floor_used INTEGER NOT NULL,
              payload BLOB NOT NULL,
              signature BLOB NOT NULL,
              accepted_at INTEGER NOT NULL,
              UNIQUE (node_id, request_id));
            CREATE INDEX IF NOT EXISTS receipts_key ON receipts (key_id, seq);
            CREATE INDEX IF NOT EXISTS receipts_node ON receipts (node_id, seq);
            CREATE TABLE IF NOT EXISTS rates (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              spend_per_token TEXT NOT NULL,
              earn_per_token_layer TEXT NOT NULL,
              daily_floor TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS floor_use (
              key_id TEXT NOT NULL,
              day TEXT NOT NULL,
              used INTEGER NOT NULL,
              PRIMARY KEY (key_id, day));
            """);
        DatabasePath = path;
        Rates = rates is null ? StoredRates() : StoreRates(rates);
    }

    private CreditRates StoreRates(CreditRates rates)
    {
        Execute("INSERT INTO rates (id, spend_per_token, earn_per_token_layer, daily_floor) VALUES (1, $spend, $earn, $floor) " +
            "ON CONFLICT (id) DO UPDATE SET spend_per_token = $spend, earn_per_token_layer = $earn, daily_floor = $floor",
            ("$spend", Text(rates.SpendPerToken)), ("$earn", Text(rates.EarnPerTokenLayer)), ("$floor", Text(rates.DailyFloor)));
        return rates;
    }

    private CreditRates StoredRates()
    {
        using var select = Command("SELECT spend_per_token, earn_per_token_layer, daily_floor FROM rates WHERE id = 1");
        using var reader = select.ExecuteReader();
        if (!reader.Read())
            return new CreditRates();
        return new CreditRates
        {
            SpendPerToken = decimal.Parse(reader.GetString(0), CultureInfo.InvariantCulture),
            EarnPerTokenLayer = decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
            DailyFloor = decimal.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
        };
    }

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public string DatabasePath { get; }

    public CreditRates Rates { get; }

    /// <summary>Registers a pool member's public key (DER SubjectPublicKeyInfo); its id is the key's hash.</summary>
    public string AddMember(byte[] publicKey)
    {
        var nodeId = AccountIds.ForNode(publicKey);
        lock (_gate)
        {
            Execute("INSERT INTO members (node_id, public_key, added_at) VALUES ($id, $key, $now) ON CONFLICT (node_id) DO NOTHING",
                ("$id", nodeId), ("$key", publicKey), ("$now", NowMs()));
            EnsureAccount(nodeId, "node");
        }
        return nodeId;
    }

    public List<LedgerMember> Members()
    {
        lock (_gate)
        {
            using var select = Command("SELECT node_id, public_key, added_at FROM members ORDER BY added_at, node_id");
            return SqliteDatabase.Rows(select, reader => new LedgerMember(reader.GetString(0), Convert.ToBase64String((byte[])reader[1]), reader.GetInt64(2)));
        }
    }

    /// <summary>
    /// Makes the key a contributor of the node: its spending then comes out of what the node earned, and the node earns
    /// nothing for serving it. The node must be a member. This is not a transfer: no credits move when a link is made.
    /// </summary>
    public void Link(string keyId, string nodeId)
    {
        if (!AccountIds.IsKey(keyId))
            throw new ArgumentException($"'{keyId}' is not a key account");
        lock (_gate)
        {
            if (Scalar("SELECT COUNT(*) FROM members WHERE node_id = $id", ("$id", nodeId)) == 0)
                throw new ArgumentException($"node {nodeId} is not a pool member of this ledger; 'edgenode credits members' lists them");
            EnsureAccount(keyId, "key");
            Execute("UPDATE accounts SET linked_node = $node WHERE id = $id", ("$node", nodeId), ("$id", keyId));
        }
    }

    public void Unlink(string keyId)
    {
        lock (_gate)
            Execute("UPDATE accounts SET linked_node = NULL WHERE id = $id", ("$id", keyId));
    }

    public string? LinkedNode(string keyId)
    {
        lock (_gate)
            return LinkedNodeOf(keyId);
    }

    /// <summary>May the key start a request: floor left today, or credits in its wallet. The anonymous account always may.</summary>
    public Admission Admit(string keyId)
    {
        lock (_gate)
        {
            var linked = LinkedNodeOf(keyId);
            if (keyId == AccountIds.Anonymous)
                return new Admission(true, 0, 0, false);
            var floorLeft = Math.Max(0, CreditRates.ToMicro(Rates.DailyFloor) - FloorUsed(keyId, Today()));
            var balance = Balance(linked ?? keyId);
            return new Admission(floorLeft > 0 || balance > 0, CreditRates.FromMicro(floorLeft), CreditRates.FromMicro(balance), linked is not null);
        }
    }

    /// <summary>Checks a receipt (format, member, signature, not seen before) and, in one transaction, moves its credits.</summary>
    public ReceiptVerdict Accept(string signedReceipt)
    {
        Receipt receipt;
        byte[] payload, signature;
        try
        {
            (receipt, payload, signature) = SignedReceipt.Decode(signedReceipt);
        }
        catch (ReceiptFormatException e)
        {
            return ReceiptVerdict.Refused("malformed", e.Message);
        }
        if (receipt.V != 1)
            return ReceiptVerdict.Refused("malformed", $"receipt version {receipt.V} is not known to this ledger (it reads version 1)", receipt);
        lock (_gate)
        {
            var publicKey = MemberKey(receipt.NodeId);
            if (publicKey is null)
                return ReceiptVerdict.Refused("unknown_node", $"node {receipt.NodeId} is not a pool member of this ledger; receipts are accepted only from members", receipt);
            if (!SignedReceipt.Verify(publicKey, payload, signature))
                return ReceiptVerdict.Refused("forged", $"the signature does not verify with node {receipt.NodeId}'s public key: the receipt was altered or not signed by that node", receipt);
            if (Invalid(receipt) is { } why)
                return ReceiptVerdict.Refused("invalid", why, receipt);
            if (Scalar("SELECT COUNT(*) FROM receipts WHERE node_id = $node AND request_id = $id", ("$node", receipt.NodeId), ("$id", receipt.RequestId)) > 0)
                return ReceiptVerdict.Refused("replayed", $"receipt {receipt.RequestId} from node {receipt.NodeId} was already accepted; each receipt counts once", receipt);
            return Settle(receipt, payload, signature);
        }
    }

    private static string? Invalid(Receipt r)
    {
        if (string.IsNullOrWhiteSpace(r.RequestId) || r.RequestId.Length > 128)
            return "the receipt's request_id is empty or longer than 128 characters";
        if (r.TokensIn < 0 || r.TokensOut < 0)
            return "the receipt counts negative tokens";
        if (r.Layers < 1 || r.Layers > 10_000)
            return $"the receipt's layers {r.Layers} is not from 1 to 10000";
        if (!AccountIds.IsKey(r.KeyId))
            return $"the receipt's key_id '{r.KeyId}' is not a key account";
        try
        {
            _ = PrecisionWeights.Of(r.Precision);
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        return null;
    }

    private ReceiptVerdict Settle(Receipt receipt, byte[] payload, byte[] signature)
    {
        using var transaction = _db.BeginTransaction();
        _transaction = transaction;
        try
        {
            return SettleIn(transaction, receipt, payload, signature);
        }
        finally
        {
            _transaction = null;
        }
    }

    private ReceiptVerdict SettleIn(SqliteTransaction transaction, Receipt receipt, byte[] payload, byte[] signature)
    {
        EnsureAccount(receipt.KeyId, "key");
        EnsureAccount(receipt.NodeId, "node");
        var linked = LinkedNodeOf(receipt.KeyId);
        var selfServed = linked == receipt.NodeId;
        var anonymous = receipt.KeyId == AccountIds.Anonymous;
        long earned = 0, spent = 0, floorUsed = 0;
        string? wallet = null;
        if (!selfServed)
        {
            earned = CreditRates.ToMicro(receipt.Tokens * receipt.Layers * PrecisionWeights.Of(receipt.Precision) * Rates.EarnPerTokenLayer);
            if (!anonymous)
            {
                var cost = CreditRates.ToMicro(receipt.Tokens * Rates.SpendPerToken);
                var day = Today();
                var floorLeft = Math.Max(0, CreditRates.ToMicro(Rates.DailyFloor) - FloorUsed(receipt.KeyId, day));
                floorUsed = Math.Min(cost, floorLeft);
                spent = cost - floorUsed;
                if (floorUsed > 0)
                {
                    Execute("INSERT INTO floor_use (key_id, day, used) VALUES ($key, $day, $used) ON CONFLICT (key_id, day) DO UPDATE SET used = used + $used",
                        ("$key", receipt.KeyId), ("$day", day), ("$used", floorUsed));
                }
                wallet = linked ?? receipt.KeyId;
                if (spent > 0)
                    Execute("UPDATE accounts SET balance = balance - $amount, spent = spent + $amount WHERE id = $id", ("$amount", spent), ("$id", wallet));
            }
            if (earned > 0)
                Execute("UPDATE accounts SET balance = balance + $amount, earned = earned + $amount WHERE id = $id", ("$amount", earned), ("$id", receipt.NodeId));
        }
        Execute("""
            INSERT INTO receipts (node_id, request_id, key_id, wallet, model, tokens_in, tokens_out, layers, precision, mode, time_ms, earned, spent, floor_used, payload, signature, accepted_at)
            VALUES ($node, $id, $key, $wallet, $model, $in, $out, $layers, $precision, $mode, $time, $earned, $spent, $floor, $payload, $signature, $now)
            """,
            ("$node", receipt.NodeId), ("$id", receipt.RequestId), ("$key", receipt.KeyId), ("$wallet", wallet), ("$model", receipt.Model),
            ("$in", receipt.TokensIn), ("$out", receipt.TokensOut), ("$layers", receipt.Layers), ("$precision", receipt.Precision), ("$mode", receipt.Mode),
            ("$time", receipt.TimeMs), ("$earned", earned), ("$spent", spent), ("$floor", floorUsed), ("$payload", payload), ("$signature", signature), ("$now", NowMs()));
        transaction.Commit();
        return new ReceiptVerdict(true, "accepted", selfServed ? "accepted; served by the key's own node, so nothing earned or spent" : "accepted", receipt,
            CreditRates.FromMicro(earned), CreditRates.FromMicro(spent), CreditRates.FromMicro(floorUsed));
    }

    /// <summary>An account's standing and its most recent receipts (a key's: requests it made; a node's: requests it served).</summary>
    public CreditStatement Statement(string accountId, int recent = 20)
    {
        lock (_gate)
        {
            var isNode = AccountIds.IsNode(accountId);
            var linked = isNode ? null : LinkedNodeOf(accountId);
            var wallet = linked ?? accountId;
            var (balance, earned, spent) = Totals(wallet);
            var floorLeft = isNode || accountId == AccountIds.Anonymous ? 0 : Math.Max(0, CreditRates.ToMicro(Rates.DailyFloor) - FloorUsed(accountId, Today()));
            return new CreditStatement
            {
                Account = accountId, Kind = isNode ? "node" : "key",
                Balance = CreditRates.FromMicro(balance), Earned = CreditRates.FromMicro(earned), Spent = CreditRates.FromMicro(spent),
                LinkedNode = linked, Contributor = linked is not null,
                DailyFloor = isNode ? 0 : Rates.DailyFloor, FloorLeftToday = CreditRates.FromMicro(floorLeft),
                Recent = History(accountId, recent),
            };
        }
    }

    /// <summary>Newest first: receipts a key made (key_id) or a node served (node_id).</summary>
    public List<LedgerEntry> History(string accountId, int limit)
    {
        lock (_gate)
        {
            var column = AccountIds.IsNode(accountId) ? "node_id" : "key_id";
            using var select = Command($"""
                SELECT request_id, model, key_id, node_id, tokens_in, tokens_out, layers, precision, mode, time_ms, earned, spent, floor_used
                FROM receipts WHERE {column} = $id ORDER BY seq DESC LIMIT $limit
                """, ("$id", accountId), ("$limit", limit));
            return SqliteDatabase.Rows(select, reader => new LedgerEntry
            {
                RequestId = reader.GetString(0), Model = reader.GetString(1), KeyId = reader.GetString(2), NodeId = reader.GetString(3),
                TokensIn = reader.GetInt32(4), TokensOut = reader.GetInt32(5), Layers = reader.GetInt32(6), Precision = reader.GetString(7),
                Mode = reader.GetString(8), TimeMs = reader.GetInt64(9), Earned = CreditRates.FromMicro(reader.GetInt64(10)),
                Spent = CreditRates.FromMicro(reader.GetInt64(11)), FloorUsed = CreditRates.FromMicro(reader.GetInt64(12)),
            });
        }
    }

    /// <summary>Every account id, nodes first.</summary>
    public List<string> Accounts()
    {
        lock (_gate)
        {
            using var select = Command("SELECT id FROM accounts ORDER BY kind DESC, id");
            return SqliteDatabase.Rows(select, reader => reader.GetString(0));
        }
    }

    public long ReceiptCount()
    {
        lock (_gate)
            return Scalar("SELECT COUNT(*) FROM receipts");
    }

    private (long Balance, long Earned, long Spent) Totals(string account)
    {
        using var select = Command("SELECT balance, earned, spent FROM accounts WHERE id = $id", ("$id", account));
        using var reader = select.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : (0, 0, 0);
    }

    private long Balance(string account) => Totals(account).Balance;

    private string? LinkedNodeOf(string keyId)
    {
        using var select = Command("SELECT linked_node FROM accounts WHERE id = $id", ("$id", keyId));
        return select.ExecuteScalar() as string;
    }

    private byte[]? MemberKey(string nodeId)
    {
        using var select = Command("SELECT public_key FROM members WHERE node_id = $id", ("$id", nodeId));
        return select.ExecuteScalar() as byte[];
    }

    private long FloorUsed(string keyId, string day) =>
        Scalar("SELECT COALESCE((SELECT used FROM floor_use WHERE key_id = $key AND day = $day), 0)", ("$key", keyId), ("$day", day));

    private void EnsureAccount(string id, string kind) =>
        Execute("INSERT INTO accounts (id, kind, created_at) VALUES ($id, $kind, $now) ON CONFLICT (id) DO NOTHING", ("$id", id), ("$kind", kind), ("$now", NowMs()));

    /// <summary>The floor's day: the UTC date, so every node of a pool resets it at the same moment.</summary>
    private string Today() => _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters) => SqliteDatabase.Command(_db, _transaction, sql, parameters);

    public void Dispose() => _db.Dispose();
}
