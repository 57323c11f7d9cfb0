using Akka.Hosting;
using BanActors.Hosting;

var builder = WebApplication.CreateBuilder(args);

var engineOptions = new BanEngineOptions();
builder.Configuration.GetSection("BanActors:Storage").Bind(engineOptions.Storage);
builder.Services.AddBanEngine(engineOptions, configure: (akka, sp) =>
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory()));

var app = builder.Build();
app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
