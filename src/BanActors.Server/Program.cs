using BanActors.Server.Gateway;
using BanActors.Server.Hosting;
using BanActors.Server.OperatorConsole;

if (PasswordHashCommand.TryRun(args, Console.In, Console.Out, Console.Error, out var exitCode)) return exitCode;

var builder = WebApplication.CreateBuilder(args);
builder.AddBanActorsServer();
builder.AddImGateway();

var app = builder.Build();
app.MapBanActorsApi();
app.MapImGateway();
app.Run();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
