using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// A model saved while another thread trains it is saved as one completed step left it: every file
/// loads, and its weights, summary and optimizer state equal, bit for bit, those of a replay of the
/// same training to the step the file says it holds. A torn save (weights of two steps, or weights
/// of one step and a summary of another) fails the comparison.
/// </summary>
public sealed class SnapshotTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    const int Saves = 24;

    readonly string folder = Directory.CreateTempSubdirectory("microgpt-snapshot-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 2)] // two threads write the weights in Adam
    public async Task SavesWhileAnotherThreadTrainsHoldOneCompletedStepEach(int batchSize, int threads)
    {
        var config = new ModelConfig(13, 16, 2, 2, 8);
        var sentences = TestData.RandomSentences(13, 40, 8, seed: 3);
        var options = new TrainingOptions { Steps = 1_000_000, BatchSize = batchSize, ThreadCount = threads };
        var model = TestData.RandomModel(config, seed: 5);

        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        var training = Task.Run(() =>
        {
            using var trainer = new Trainer(model, sentences, options);
            trainer.Run(_ => started.TrySetResult(), stop.Token);
        });
        await started.Task;
        var files = new List<(string Path, bool WithOptimizer)>();
        for (int i = 0; i < Saves; i++)
        {
            var file = (Path.Combine(folder, $"m{i}.{(i % 3 == 2 ? "safetensors" : "json")}"), i % 3 == 1);
            ModelFile.Save(model, file.Item1, file.Item2);
            files.Add(file);
        }
        stop.Cancel();
        await training;

        var loaded = files.Select(f => (Model: ModelFile.Load(f.Path), f.WithOptimizer)).ToList();
        var held = loaded.Select(l => l.Model.Summary.Steps).ToHashSet();
        var expected = Replay(config, sentences, options, held);
        output.WriteLine($"{Saves} saves of {held.Count} different steps, up to step {held.Max()}");
        foreach (var (file, withOptimizer) in loaded)
        {
            long step = file.Summary.Steps;
            Assert.Equal(withOptimizer ? expected[step].WithOptimizer : expected[step].Model, Checksum.Of(file, withOptimizer ? file.Optimizer : null));
        }
        Assert.True(held.Count >= Saves / 4, $"the {Saves} saves held only {held.Count} different steps: training and saving did not overlap");
    }

    /// <summary>The same training, one thread, step by step: the checksum of the model (and with its optimizer state) after each of the steps given.</summary>
    static Dictionary<long, (string Model, string WithOptimizer)> Replay(ModelConfig config, int[][] sentences, TrainingOptions options, HashSet<long> steps)
    {
        var model = TestData.RandomModel(config, seed: 5);
        var checksums = new Dictionary<long, (string, string)> { [0] = (Checksum.Of(model, null), Checksum.Of(model, null)) };
        using var trainer = new Trainer(model, sentences, options with { ThreadCount = 1 }); // bit-identical whatever the thread count
        for (long step = 1; step <= steps.Max(); step++)
        {
            trainer.Step();
            if (steps.Contains(step)) checksums[step] = (Checksum.Of(model, null), Checksum.Of(model, model.Optimizer));
        }
        return checksums;
    }
}
