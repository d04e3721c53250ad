using System.Security.Cryptography;
using EdgeNode.Ledger;
using Microsoft.Data.Sqlite;

namespace EdgeNode.Gateway.Jobs;

/// <summary>
/// Async jobs in SQLite. Write-ahead log with synchronous=FULL: a job is on disk before its id is returned, and a
/// result before it is reported, so a SIGKILL loses nothing. A run that was cut off is found in_progress at the
/// next start and queued again; its result is recorded with a conditional update (only from in_progress, counted
/// in completions), so however often a job was started it finishes exactly once.
/// </summary>
public sealed class JobStore : IDisposable
{
    private const string Columns = "id, custom_id, url, body, status, created_at, started_at, finished_at, attempts, status_code, result, key_id";

    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();

    public JobStore(string path)
    {
        _db = SqliteDatabase.Open(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS jobs (
              seq INTEGER PRIMARY KEY AUTOINCREMENT,
              id TEXT NOT NULL UNIQUE,
              custom_id TEXT,
              url TEXT NOT NULL,
              body TEXT NOT NULL,
              idempotency_key TEXT UNIQUE,
              status TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              started_at INTEGER,
              finished_at INTEGER,
              attempts INTEGER NOT NULL DEFAULT 0,
              completions INTEGER NOT NULL DEFAULT 0,
              status_code INTEGER,
              result TEXT)
            """);
        Execute("CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq)");
        // Databases made before jobs were charged to their key gain the column; their jobs stay unowned.
        using (var columns = Command("SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'key_id'"))
        {
            if (Convert.ToInt64(columns.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
                Execute("ALTER TABLE jobs ADD COLUMN key_id TEXT");
        }
        DatabasePath = path;
    }

    public string DatabasePath { get; }

    /// <summary>Stores a new queued job, or returns the job an earlier request with the same idempotency key made.</summary>
    public (Job Job, bool Created) Submit(string? customId, string url, string body, string? idempotencyKey, string? keyId = null)
    {
        lock (_gate)
        {
            if (idempotencyKey is not null && Find("idempotency_key = $key", ("$key", idempotencyKey)) is { } earlier)
                return (earlier, false);
            var id = $"job-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
            using var insert = Command("INSERT INTO jobs (id, custom_id, url, body, idempotency_key, status, created_at, key_id) VALUES ($id, $custom, $url, $body, $key, $status, $now, $owner)",
                ("$id", id), ("$custom", customId), ("$url", url), ("$body", body), ("$key", idempotencyKey), ("$status", JobStatus.Queued), ("$now", Now()), ("$owner", keyId));
            insert.ExecuteNonQuery();
            return (Find("id = $id", ("$id", id))!, true);
        }
    }

    public Job? Get(string id)
    {
        lock (_gate)
            return Find("id = $id", ("$id", id));
    }

    /// <summary>The newest jobs first, <paramref name="limit"/> of them, older than <paramref name="after"/> when given.</summary>
    public (List<Job> Jobs, bool HasMore) List(int limit, string? after)
    {
        lock (_gate)
        {
            using var select = Command($"SELECT {Columns} FROM jobs WHERE ($after IS NULL OR seq < (SELECT seq FROM jobs WHERE id = $after)) ORDER BY seq DESC LIMIT $limit",
                ("$after", after), ("$limit", limit + 1));
            var jobs = Read(select);
            var more = jobs.Count > limit;
            return (more ? jobs[..limit] : jobs, more);
        }
    }

    /// <summary>At start: runs cut off by a crash or a stop are queued again, ahead of newer jobs (they keep their place).</summary>
    public int ResumeInterrupted()
    {
        lock (_gate)
        {
            using var update = Command("UPDATE jobs SET status = $queued WHERE status = $running", ("$queued", JobStatus.Queued), ("$running", JobStatus.InProgress));
            return update.ExecuteNonQuery();
        }
    }

    /// <summary>The oldest queued job, now marked in_progress with one more attempt; null when none waits.</summary>
    public Job? TakeNext()
    {
        lock (_gate)
        {
            using var transaction = _db.BeginTransaction();
            var next = Find("status = $queued ORDER BY seq LIMIT 1", ("$queued", JobStatus.Queued));
            if (next is null)
                return null;
            using var update = Command("UPDATE jobs SET status = $running, started_at = $now, attempts = attempts + 1 WHERE id = $id AND status = $queued",
                ("$running", JobStatus.InProgress), ("$now", Now()), ("$id", next.Id), ("$queued", JobStatus.Queued));
            update.Transaction = transaction;
            update.ExecuteNonQuery();
            transaction.Commit();
            return Find("id = $id", ("$id", next.Id));
        }
    }

    /// <summary>Records a run's outcome; false when the job was no longer in progress (cancelled meanwhile), and nothing changes.</summary>
    public bool Finish(string id, string status, int? statusCode, string? result)
    {
        lock (_gate)
        {
            using var update = Command("UPDATE jobs SET status = $status, status_code = $code, result = $result, finished_at = $now, completions = completions + 1 WHERE id = $id AND status = $running",
                ("$status", status), ("$code", statusCode), ("$result", result), ("$now", Now()), ("$id", id), ("$running", JobStatus.InProgress));
            return update.ExecuteNonQuery() == 1;
        }
    }

    /// <summary>A run stopped with the node: back to queued, to run again at the next start.</summary>
    public void Requeue(string id)
    {
        lock (_gate)
        {
            using var update = Command("UPDATE jobs SET status = $queued WHERE id = $id AND status = $running", ("$queued", JobStatus.Queued), ("$id", id), ("$running", JobStatus.InProgress));
            update.ExecuteNonQuery();
        }
    }

    /// <summary>Cancels a queued job at once; an in-progress one is left to its runner. Returns the job as it now is.</summary>
    public Job? CancelIfQueued(string id)
    {
        lock (_gate)
        {
            using var update = Command("UPDATE jobs SET status = $cancelled, finished_at = $now WHERE id = $id AND status = $queued",
                ("$cancelled", JobStatus.Cancelled), ("$now", Now()), ("$id", id), ("$queued", JobStatus.Queued));
            update.ExecuteNonQuery();
            return Find("id = $id", ("$id", id));
        }
    }

    /// <summary>Drops finished jobs older than the retention period; returns how many.</summary>
    public int Purge(TimeSpan retention)
    {
        lock (_gate)
        {
            using var delete = Command("DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $cutoff AND status IN ($completed, $failed, $cancelled)",
                ("$cutoff", Now() - (long)retention.TotalSeconds), ("$completed", JobStatus.Completed), ("$failed", JobStatus.Failed), ("$cancelled", JobStatus.Cancelled));
            return delete.ExecuteNonQuery();
        }
    }

    /// <summary>How many jobs are in each status; every status is present, zero when none (the dashboard's counts).</summary>
    public Dictionary<string, int> CountByStatus()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [JobStatus.Queued] = 0, [JobStatus.InProgress] = 0, [JobStatus.Completed] = 0, [JobStatus.Failed] = 0, [JobStatus.Cancelled] = 0,
        };
        lock (_gate)
        {
            using var select = Command("SELECT status, COUNT(*) FROM jobs GROUP BY status");
            using var reader = select.ExecuteReader();
            while (reader.Read())
                counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    private Job? Find(string where, params (string Name, object? Value)[] parameters)
    {
        using var select = Command($"SELECT {Columns} FROM jobs WHERE {where}", parameters);
        var jobs = Read(select);
        return jobs.Count == 0 ? null : jobs[0];
    }

    private static List<Job> Read(SqliteCommand select) => SqliteDatabase.Rows(select, reader => new Job
    {
        Id = reader.GetString(0),
        CustomId = reader.IsDBNull(1) ? null : reader.GetString(1),
        Url = reader.GetString(2),
        Body = reader.GetString(3),
        Status = reader.GetString(4),
        CreatedAt = reader.GetInt64(5),
        StartedAt = reader.IsDBNull(6) ? null : reader.GetInt64(6),
        FinishedAt = reader.IsDBNull(7) ? null : reader.GetInt64(7),
        Attempts = reader.GetInt32(8),
        StatusCode = reader.IsDBNull(9) ? null : reader.GetInt32(9),
        Result = reader.IsDBNull(10) ? null : reader.GetString(10),
        KeyId = reader.IsDBNull(11) ? null : reader.GetString(11),
    });

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters) => SqliteDatabase.Command(_db, null, sql, parameters);

    private void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public void Dispose() => _db.Dispose();
}
