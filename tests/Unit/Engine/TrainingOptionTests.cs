using System.Text.Json.Nodes;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// The training options described once (TrainingOptions.All) against what each description must
/// give: every property described, each kept option written, read back and hashed, keys that an
/// older file lacks read as their defaults, and resume conflicts exactly where a run's numbers are decided.
/// </summary>
public sealed class TrainingOptionTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("microgpt-options-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    static readonly TrainingOptions Defaults = new();

    /// <summary>A valid value of the option other than its default (and, for an option with a "not set" value, a set one).</summary>
    static object OtherValue(TrainingOption option) => option.Get(Defaults) switch
    {
        int i => i + 3,
        double d => d == 0 ? 0.001 : d / 2,
        bool b => !b,
        Enum e => Enum.GetValues(e.GetType()).Cast<object>().First(value => !value.Equals(e)),
        var other => throw new ArgumentException($"{option.Name} has values of type {other.GetType().Name}."),
    };

    /// <summary>A small model with a checkpoint's optimizer state, four steps in.</summary>
    static Model Checkpointed()
    {
        var model = TestData.RandomModel(new ModelConfig(6, 4, 2, 1, 3));
        using (var trainer = new Trainer(model, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions { Steps = 4 })) trainer.Run(_ => { }); // more steps than the other value of -WarmupSteps
        return model;
    }

    [Fact]
    public void EverySettableOptionIsDescribedOnceUnderItsOwnKey()
    {
        var settable = typeof(TrainingOptions).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order();
        Assert.Equal(settable, TrainingOptions.All.Select(o => o.Name).Order());
        var keys = TrainingOptions.All.Where(o => o.InCheckpoints).Select(o => o.Key).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        foreach (var option in TrainingOptions.All)
        {
            Assert.Equal(typeof(TrainingOptions).GetProperty(option.Name)!.PropertyType, option.Type);
            Assert.NotEqual(option.Get(Defaults), OtherValue(option));
            option.With(Defaults, OtherValue(option)).Validate(); // the probe value is a valid one
            Assert.Equal(OtherValue(option), option.Get(option.With(Defaults, OtherValue(option))));
        }
    }

    [Fact]
    public void EveryOptionACheckpointKeepsIsWrittenReadBackAndHashed()
    {
        foreach (var option in TrainingOptions.All.Where(o => o.InCheckpoints))
        {
            var model = Checkpointed();
            string before = Checksum.Of(model, model.Optimizer, ModelFile.FormatVersion);
            model.Optimizer!.Options = option.With(model.Optimizer.Options, OtherValue(option));
            Assert.NotEqual(before, Checksum.Of(model, model.Optimizer, ModelFile.FormatVersion));

            ModelFile.Save(model, PathOf("m.json"), includeOptimizer: true);
            var file = JsonNode.Parse(File.ReadAllText(PathOf("m.json")))!;
            var options = file["optimizer"]!["options"]!.AsObject();
            int version = (int)file["formatVersion"]!;
            Assert.Equal(Math.Max(2, option.Since), version); // the oldest version that holds the value
            Assert.Equal(TrainingOptions.All.Where(o => o.InCheckpoints && o.Since <= version).Select(o => o.Key), options.Select(p => p.Key)); // in the described order
            Assert.Equal(model.Optimizer.Options, ModelFile.Load(PathOf("m.json")).Optimizer!.Options);
        }
        // Threads, and how much of the held-out data a validation reads, are each call's own: no checkpoint keeps them.
        Assert.Equal([nameof(TrainingOptions.ThreadCount), nameof(TrainingOptions.ValidationExamples)], TrainingOptions.All.Where(o => !o.InCheckpoints).Select(o => o.Name));
    }

    [Fact]
    public void AnOptionThatAFilesVersionLacksLoadsWithItsDefault()
    {
        var added = TrainingOptions.All.Where(o => o.InCheckpoints && o.Since > 1).ToList();
        Assert.NotEmpty(added); // checkpointInterval came with version 2
        for (int version = 1; version < ModelFile.FormatVersion; version++)
        {
            var model = Checkpointed();
            foreach (var option in TrainingOptions.All.Where(o => o.InCheckpoints))
                model.Optimizer!.Options = option.With(model.Optimizer.Options, OtherValue(option));
            ModelFile.Save(model, PathOf("m.json"), includeOptimizer: true);
            var node = JsonNode.Parse(File.ReadAllText(PathOf("m.json")))!.AsObject();
            node["formatVersion"] = version;
            foreach (var option in added.Where(o => o.Since > version)) Assert.True(node["optimizer"]!["options"]!.AsObject().Remove(option.Key!));
            node["checksum"] = Checksum.Of(model, model.Optimizer, version);
            File.WriteAllText(PathOf("old.json"), node.ToJsonString());

            var loaded = ModelFile.Load(PathOf("old.json")).Optimizer!.Options;
            foreach (var option in TrainingOptions.All.Where(o => o.InCheckpoints))
                Assert.Equal(option.Since > version ? option.Get(Defaults) : OtherValue(option), option.Get(loaded));
        }
    }

    [Fact]
    public void AResumedRunConflictsExactlyOnTheOptionsThatDecideItsNumbers()
    {
        var state = new OptimizerState([], []) { Options = Defaults };
        var deciding = new List<string>();
        foreach (var option in TrainingOptions.All)
        {
            var requested = option.With(Defaults, OtherValue(option));
            var conflicts = state.Conflicts(requested).ToList();
            var resumed = requested.ResumingFrom(Defaults);
            if (option.OnResume == OnResume.KeepRuns)
            {
                deciding.Add(option.Name);
                Assert.Equal((option, OtherValue(option), option.Get(Defaults)), Assert.Single(conflicts));
                Assert.Equal(Defaults, resumed); // the run's own value
            }
            else
            {
                Assert.Empty(conflicts);
                Assert.Equal(requested, resumed); // the call's value, which sets the option
            }
        }
        // The options a run's numbers depend on: asking a resumed run for another is an error, never a silent change.
        Assert.Equal(["Steps", "LearningRate", "Beta1", "Beta2", "Epsilon", "BatchSize", "Seed", "Shuffle",
            "WeightDecay", "WarmupSteps", "Schedule", "MinLearningRate", "GradientClip", "Stream"], deciding);
    }
}
