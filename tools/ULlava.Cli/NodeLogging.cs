using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ULlava.Cli;

/// <summary>
/// `--log-level` and `--log-format`: log lines go to stderr (stdout carries the per-frame lines), text by default,
/// one JSON object per line with `json`, and systemd's priority-prefixed lines when running as a systemd service.
/// </summary>
public sealed record NodeLogging(LogLevel Level, string Format)
{
    public static NodeLogging Read(ArgReader args)
    {
        string level = args.Choice("--log-level", "information", "trace", "debug", "information", "warning", "error");
        string format = args.Choice("--log-format", "text", "text", "json");
        return new NodeLogging(Enum.Parse<LogLevel>(level, ignoreCase: true), format);
    }

    public void Configure(ILoggingBuilder logging)
    {
        logging.SetMinimumLevel(Level);
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        if (Format == "json")
            logging.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffzzz");
        else
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
    }

    /// <summary>An explicit JSON format wins over systemd's format (which <c>AddSystemd</c> picks under systemd).</summary>
    public void ConfigureAfterSystemd(IServiceCollection services)
    {
        if (Format == "json") services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = ConsoleFormatterNames.Json);
    }
}
