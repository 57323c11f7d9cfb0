using BanActors.Server.Gateway;
using BanActors.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddBanActorsServer();
builder.AddImGateway();

var app = builder.Build();
app.MapBanActorsApi();
app.MapImGateway();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
