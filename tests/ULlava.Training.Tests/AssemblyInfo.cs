using Xunit;

// A training run seeds libtorch's one global generator and then initialises its model from it; a test class running
// beside it that draws from the same generator (randn in a loss test) would change those draws, and the tests that
// compare two seeded runs bit for bit would fail by chance (CI saw it once).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
