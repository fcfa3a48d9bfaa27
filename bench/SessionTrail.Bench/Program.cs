using SessionTrail.Bench;

// Temporary dispatch (the lead writes the final Program.cs): `bench capture [options]`.
if (args.Length > 0 && args[0] == "capture")
{
    return await CaptureBench.RunAsync(args[1..]);
}

Console.WriteLine("bench");
return 0;
