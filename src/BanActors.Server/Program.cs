using BanActors.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddBanActorsServer();

var app = builder.Build();
app.MapBanActorsApi();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
