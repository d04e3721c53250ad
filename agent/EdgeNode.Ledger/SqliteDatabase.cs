using Microsoft.Data.Sqlite;

namespace EdgeNode.Ledger;

/// <summary>
/// A SQLite file for a store that must not lose what it said it wrote: the credits ledger and the gateway's async
/// jobs. Write-ahead log with synchronous=FULL, so a commit is on disk before the caller hears of it and a SIGKILL
/// loses nothing; a 5 s busy timeout, so a second connection to the file (another process reading it) waits for a
/// write in progress instead of failing at once. It lives here, in the lowest project that keeps a SQLite store (the
/// gateway references the ledger), so both open their files the same way.
/// </summary>
public static class SqliteDatabase
{
    /// <summary>Opens <paramref name="path"/>, creating the file and its folder when missing.</summary>
    public static SqliteConnection Open(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            db.Open();
            foreach (var pragma in (string[])["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=5000"])
            {
                using var command = Command(db, null, pragma);
                command.ExecuteNonQuery();
            }
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A command over <paramref name="db"/> with named parameters; a null value is SQL NULL. Without
    /// <paramref name="transaction"/> the command keeps the one CreateCommand gave it, the connection's pending one.
    /// </summary>
    public static SqliteCommand Command(SqliteConnection db, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        if (transaction is not null)
            command.Transaction = transaction;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>Every row <paramref name="select"/> returns, in order, each made by <paramref name="row"/>.</summary>
    public static List<T> Rows<T>(SqliteCommand select, Func<SqliteDataReader, T> row)
    {
        var rows = new List<T>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
            rows.Add(row(reader));
        return rows;
    }
}
