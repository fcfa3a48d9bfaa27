using System.CommandLine;

// Ctrl+C / SIGTERM cancel the command's token; the agent then flushes for up to its FlushDeadline
// (10 s by default), so the process is given longer than that before it is terminated.
return await SessionTrail.Cli.CliCommands.Create().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
