using Microsoft.Data.Sqlite;

namespace BanActors.Bench.Infra;

/// <summary>The ledger's own SQLite file next to the journal's (<c>bans.db</c> → <c>bans.ledger.db</c>, see LedgerStore).</summary>
internal static class LedgerFile
{
    /// <summary>Entries in the ledger; 0 while its file does not exist yet (the projection has not written).</summary>
    public static long Entries(string journalDb)
    {
        var db = Path.ChangeExtension(journalDb, null) + ".ledger.db";
        if (!File.Exists(db)) return 0;
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM ban_ledger";
        return (long)command.ExecuteScalar()!;
    }
}
