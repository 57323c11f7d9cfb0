namespace BanActors.Server.OperatorConsole;

/// <summary>
/// <c>dotnet run --project src/BanActors.Server -- hash-password [password]</c>: prints the <c>PasswordHash</c> of a
/// console operator (the password from the argument, else the first line of standard input) and exits.
/// </summary>
internal static class PasswordHashCommand
{
    public const string Name = "hash-password";

    /// <summary>True when <paramref name="args"/> asked for the command (it has then run).</summary>
    public static bool TryRun(string[] args, TextReader input, TextWriter output, TextWriter error, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] != Name) return false;
        var password = args.Length > 1 ? args[1] : input.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            error.WriteLine($"usage: {Name} <password>   (or the password on standard input)");
            exitCode = 2;
            return true;
        }
        output.WriteLine(OperatorDirectory.HashPassword(password));
        return true;
    }
}
