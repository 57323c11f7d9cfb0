using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace BanActors.Server.Tests.OperatorConsole;

/// <summary>
/// The system's headless Chromium through its chromedriver (Debian's chromium and chromium-driver; .ci/run installs
/// them), never a downloaded browser. Without them the browser specs are skipped with the reason, except under
/// CI=true, where they fail.
/// </summary>
internal static class Browser
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("BANACTORS_CHROMIUM") ?? "/usr/bin/chromium";

    public static string DriverPath => Environment.GetEnvironmentVariable("BANACTORS_CHROMEDRIVER") ?? "/usr/bin/chromedriver";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the calling spec when there is no browser here and this is not CI.</summary>
    public static void SkipUnlessAvailable()
    {
        var missing = new[] { ChromiumPath, DriverPath }.Where(p => !File.Exists(p)).ToList();
        Skip.If(missing.Count > 0 && !InCi,
            $"no headless browser here ({string.Join(", ", missing)} missing): apt-get install chromium chromium-driver, or run under CI=true to fail instead");
    }

    public static ChromeDriver Start(int width = 1280, int height = 1000)
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            $"--window-size={width},{height}", "--no-first-run", "--disable-extensions", "--lang=en-US");
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(30));
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(10);
        return driver;
    }

    /// <summary>Waits up to 10 s for <paramref name="condition"/>; the message says what did not happen.</summary>
    public static T WaitFor<T>(this IWebDriver driver, Func<IWebDriver, T?> condition, string what)
    {
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(10)) { PollingInterval = TimeSpan.FromMilliseconds(50), Message = what };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(d => condition(d))!;
    }

    public static string TextOf(this IWebDriver driver, string id) => driver.FindElement(By.Id(id)).Text;

    /// <summary>Saves a screenshot under TestResults/console/ at the repository root (the test output folder outside a clone).</summary>
    public static string Screenshot(this ITakesScreenshot driver, string name)
    {
        var folder = Path.Combine(ResultsRoot(), "console");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    private static string ResultsRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BanActors.sln"))) return Path.Combine(dir.FullName, "TestResults");
        }
        return Path.Combine(AppContext.BaseDirectory, "TestResults");
    }
}
