using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// Files that earlier MicroGpts wrote, kept in tests/Unit/Data, load, and those of the current
/// format save again to the same bytes: a change to how tokenizers, options or checksums are
/// written or read cannot slip through as long as these pass. The version 2 fixtures were written
/// by main at b01adb2 (before tokenizers became a type with kinds) with the module, as users do:
/// New-Tokenizer -Text (word, and -Kind Character with a tab, a quote, accented letters and an
/// emoji), New-Model, Invoke-Training (the character run with -CheckpointPath, -CheckpointInterval 3,
/// -BatchSize 2 and -ValidationText), then Save-Model to .json and .safetensors.
/// </summary>
public sealed class FileFixtureTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("microgpt-fixtures-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    static string Fixture(string name) => Path.Combine(Cmdlets.PowerShellSession.RepoRoot, "tests", "Unit", "Data", name);

    [Theory]
    [InlineData("word-model-v2.json", "Word", false)]
    [InlineData("character-checkpoint-v2.json", "Character", true)]
    public void JsonFilesOfVersion2LoadAndSaveToTheSameBytes(string name, string kind, bool checkpoint)
    {
        var model = ModelFile.Load(Fixture(name));
        Assert.Equal(kind, model.Tokenizer.Kind);
        Assert.Equal(checkpoint, model.Optimizer is not null);
        string copy = Path.Combine(folder, name);
        ModelFile.Save(model, copy, includeOptimizer: checkpoint);
        Assert.Equal(File.ReadAllBytes(Fixture(name)), File.ReadAllBytes(copy));
    }

    [Fact]
    public void TheCheckpointFixtureKeepsItsRunsOptions()
    {
        var state = ModelFile.Load(Fixture("character-checkpoint-v2.json")).Optimizer!;
        Assert.Equal(new TrainingOptions { Steps = 6, BatchSize = 2, CheckpointInterval = 3 }, state.Options);
        Assert.Equal(6, state.NextStep);
        Assert.Equal(5, state.CorpusSentences);
        Assert.Equal(CorpusSource.Text, state.CorpusOrigin!.Source);
    }

    [Theory]
    [InlineData("word-model-v2", "Word")]
    [InlineData("character-model-v2", "Character")]
    public void SafetensorsFilesOfVersion2LoadAndSaveToTheSameBytes(string name, string kind)
    {
        var model = ModelFile.Load(Fixture(name + ".safetensors"));
        Assert.Equal(kind, model.Tokenizer.Kind);
        string copy = Path.Combine(folder, name + ".safetensors");
        ModelFile.Save(model, copy);
        Assert.Equal(File.ReadAllBytes(Fixture(name + ".safetensors")), File.ReadAllBytes(copy));
        Assert.Equal(File.ReadAllBytes(Fixture(name + ".config.json")), File.ReadAllBytes(Safetensors.ConfigPathFor(copy)));
    }

    [Fact]
    public void TheCharacterFixturesVocabularyKeepsItsTabQuoteAccentsAndEmoji()
    {
        var tokenizer = ModelFile.Load(Fixture("character-model-v2.safetensors")).Tokenizer;
        Assert.Equal(["\t", " ", "'", "a", "b", "e", "g", "i", "j", "n", "o", "r", "t", "z", "ë", "ü", "😀"], tokenizer.Vocabulary);
    }

    [Fact]
    public void AVersion1CheckpointLoadsAndSavesAsVersion2WithTheSameValues()
    {
        var old = ModelFile.Load(Fixture("checkpoint-without-corpus-origin.json"));
        Assert.Equal(0, old.Optimizer!.Options.CheckpointInterval); // version 1 had none
        Assert.Null(old.Optimizer.CorpusOrigin);
        string copy = Path.Combine(folder, "v2.json");
        ModelFile.Save(old, copy, includeOptimizer: true);
        Assert.Contains("\"formatVersion\":2", File.ReadAllText(copy)); // a sentence run: version 3 adds nothing it needs
        Assert.False(old.Optimizer.Options.Stream); // versions before 3 ran in sentence mode only
        var again = ModelFile.Load(copy);
        Assert.Equal(old.Parameters, again.Parameters);
        Assert.Equal(old.Optimizer.M, again.Optimizer!.M);
        Assert.Equal(old.Optimizer.Options, again.Optimizer.Options);
        Assert.Equal(old.Tokenizer.Vocabulary, again.Tokenizer.Vocabulary);
    }
}
