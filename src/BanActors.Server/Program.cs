using Akka.Hosting;
using BanActors.Hosting;
using BanActors.Server.Cluster;

var builder = WebApplication.CreateBuilder(args);

var engineOptions = new BanEngineOptions();
builder.Configuration.GetSection("BanActors:Storage").Bind(engineOptions.Storage);
Action<AkkaConfigurationBuilder, IServiceProvider> configureAkka = (akka, sp) =>
    akka.ConfigureLoggers(loggers => loggers.AddLoggerFactory());
if (!builder.Services.TryAddBanEngineCluster(builder.Configuration, engineOptions, configureAkka))
    builder.Services.AddBanEngine(engineOptions, configure: configureAkka);

var app = builder.Build();
app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
