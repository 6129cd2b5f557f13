// Every test runs the real model on the (2-core) machine, and the engine is shared: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
