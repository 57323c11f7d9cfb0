using System.Net;
using BanActors.Testing;
using Xunit.Abstractions;

namespace BanActors.Server.Tests.Events;

/// <summary>
/// The real server process, killed with SIGKILL after a ban was committed and answered but before its webhook went
/// through (the receiver answered 500 until then): the restarted process sends it, from the journal and the feed's
/// stored offset, and what was delivered before the kill is not lost either.
/// </summary>
public sealed class WebhookKillSpecs(ITestOutputHelper output) : IDisposable
{
    private const string AppKey = "killhook";
    private const string AppSecret = "killhook-secret";
    private const string WebhookSecret = "whsec-killhook";

    private readonly string _folder = Directory.CreateTempSubdirectory("banactors-webhook-kill-").FullName;

    [Fact]
    public async Task An_event_committed_but_not_delivered_when_the_process_is_killed_is_sent_after_the_restart()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var port = ServerChild.FreePort();
        string[] hook = [$"--BanActors:Apps:0:Webhook:Url={receiver.Url}", $"--BanActors:Apps:0:Webhook:Secret={WebhookSecret}"];
        var server = ServerChild.Start(_folder, port, AppKey, AppSecret, hook);
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(60));
            using (var api = new SignedApi(server.Address, AppKey, AppSecret, 2))
            {
                Assert.Equal((HttpStatusCode.OK, "{\"code\":200}"), await api.PostAsync("/user/block.json", [("userId", "before"), ("minute", "60")]));
                await WebhookSpecs.EventuallyAsync(() => receiver.Accepted.Any(c => c.UserId == "before"), "the first ban's webhook");
                receiver.Failing = true;
                Assert.Equal((HttpStatusCode.OK, "{\"code\":200}"),
                    await api.PostAsync("/user/block.json", [("userId", "k1"), ("minute", "60"), ("reason", "spam"), ("operator", "alice")]));
                await WebhookSpecs.EventuallyAsync(() => receiver.Refused >= 1, "a refused delivery of k1's ban");
            }
            server.Kill();
            Assert.DoesNotContain(receiver.Accepted, c => c.UserId == "k1");
            receiver.Failing = false;

            server = ServerChild.Start(_folder, port, AppKey, AppSecret, hook);
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(60));
            await WebhookSpecs.EventuallyAsync(() => receiver.Accepted.Any(c => c.UserId == "k1"), "k1's ban after the restart");

            var sent = receiver.Accepted.Single(c => c.UserId == "k1");
            Assert.Equal("user.blocked", sent.Type);
            Assert.Equal("spam", sent.Json.GetProperty("reason").GetString());
            Assert.Equal("alice", sent.Json.GetProperty("operator").GetString());
            Assert.True(sent.QuerySignatureValid(WebhookSecret));
            Assert.True(WebhookCall.BodySignatureValid(sent.SignatureHeader, sent.Body, WebhookSecret));
            // At least once: an event delivered before the kill may come again (the receiver deduplicates by id), none is lost.
            Assert.Contains(receiver.Accepted, c => c.UserId == "before");
        }
        catch
        {
            output.WriteLine(server.RecentOutput);
            throw;
        }
        finally
        {
            server.Dispose();
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
