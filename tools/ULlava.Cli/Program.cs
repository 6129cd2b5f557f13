using ULlava.Cli;
using ULlava.Cli.Commands;

var commands = new (string Name, string Usage, string Summary, Func<ArgReader, int> Run)[]
{
    ("node", NodeCommand.Usage, "the perception node (default: bundled sample video and model)", NodeCommand.Run),
    ("golden-check", GoldenCheckCommand.Usage, "recompute a reference fixture folder's tensors and compare (exit 1 on any miss)", GoldenCheckCommand.Run),
    ("infer", InferCommand.Usage, "one image, one instruction: JSON on stdout, mask_N.png and annotated.png", InferCommand.Run),
    ("bench", BenchCommand.Usage, "time every stage and the whole node; table on stdout, JSON with --json", BenchCommand.Run),
    ("sub", SubCommand.Usage, "print the node's messages as JSON lines", SubCommand.Run),
    ("cmd", CmdCommand.Usage, "send a command to a running node, print the reply", CmdCommand.Run),
    ("keygen", KeygenCommand.Usage, "make a CURVE key pair for the node or a client", KeygenCommand.Run),
    ("calibrate", CalibrateCommand.Usage, "calibrate a camera from chessboard/ChArUco images or a video; writes ROS camera_info", CalibrateCommand.Run),
    ("proxy", ProxyCommand.Usage, "one endpoint for several nodes: forwards their messages, and subscriptions back (XSUB/XPUB)", ProxyCommand.Run),
    ("soak", SoakCommand.Usage, "run the node on a live RTSP stream for a while; check memory, latency, clean stop (exit 1 on a failure)", SoakCommand.Run),
    ("replay", ReplayCommand.Usage, "feed a recording back through the node and compare the results with the recorded ones", ReplayCommand.Run),
    ("train-vision", TrainingCommands.TrainVisionUsage, "stage 0: pretrain the CLIP vision tower on synthetic scenes (then train --vision)", TrainingCommands.TrainVision),
    ("train-sam", TrainingCommands.TrainSamUsage, "stage 1: pretrain SAM as a promptable segmenter on synthetic scenes (then train --sam)", TrainingCommands.TrainSam),
    ("train", TrainingCommands.TrainUsage, "train a u-LLaVA on synthetic scenes (checkpoints in the u-LLaVA layout, resumable)", TrainingCommands.Train),
    ("eval", TrainingCommands.EvalUsage, "score a checkpoint on held-out synthetic scenes (exit 1 below the targets)", TrainingCommands.Eval),
    ("eval-default", TrainingCommands.EvalDefaultUsage, "score the bundled default model on the held-out test split", TrainingCommands.EvalDefault),
    ("render-sample", RenderSampleCommand.Usage, "render the bundled sample video (moving coloured shapes)", RenderSampleCommand.Run),
};

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine("usage: ullava <command> [options]    (from the repository: ./run.sh <command> [options])\n\ncommands:");
    foreach (var c in commands) Console.WriteLine($"  {c.Name,-14} {c.Summary}\n  {"",-14} {c.Usage}");
    return 0;
}

var command = commands.FirstOrDefault(c => c.Name == args[0]);
if (command.Name is null)
{
    Console.Error.WriteLine($"ullava: unknown command '{args[0]}' (ullava --help lists them)");
    return 2;
}
try
{
    return command.Run(new ArgReader(args.Skip(1)));
}
catch (UsageException e)
{
    Console.Error.WriteLine($"ullava {command.Name}: {e.Message}\nusage: ullava {command.Usage}");
    return 2;
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or DllNotFoundException)
{
    // Bad input (a missing file, a checkpoint that does not match, an unusable device): one clear line, no stack.
    Console.Error.WriteLine($"ullava {command.Name}: {e.Message}");
    return 1;
}
