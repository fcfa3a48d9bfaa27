// Temporary dispatch (the lead writes the final Program.cs).
using SessionTrail.Bench;

return args.Length > 0 && args[0] == "queue" ? await QueueBench.RunAsync(args[1..]) : 0;
