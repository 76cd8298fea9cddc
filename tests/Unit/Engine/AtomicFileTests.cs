using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// Temporary files: named after their target so that a later write can tell them apart, removed by
/// the next write (or a resumed run) of the same target when no write holds them, and nothing else
/// ever removed.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    const string Digits = "0123456789abcdef0123456789abcdef";

    readonly string folder = Directory.CreateTempSubdirectory("microgpt-atomic-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    /// <summary>Names a killed write of m.json could have left, and names that only look like them.</summary>
    static readonly string[] Stale = [$".m.json.{Digits}.microgpt-tmp", $".m.json.{Digits[..31]}0.microgpt-tmp"];
    static readonly string[] NotOurs =
    [
        $".m.json.{Digits[..31]}.microgpt-tmp",            // 31 digits
        $".m.json.{Digits.ToUpperInvariant()}.microgpt-tmp", // not lowercase
        $".m.json.{Digits[..31]}g.microgpt-tmp",            // not hexadecimal
        $".m.json.{Digits}.tmp",                            // another suffix (MicroGpt before these names)
        $".m.json.{Digits}.microgpt-tmp.bak",
        $".n.json.{Digits}.microgpt-tmp",                   // another target
        $"..m.json.{Digits}.microgpt-tmp",
        $"m.json.{Digits}.microgpt-tmp",                    // no leading dot
        $".m.json{Digits}.microgpt-tmp",
    ];

    [Fact]
    public void AWriteNamesItsTemporaryFileAfterItsTarget()
    {
        string? seen = null;
        AtomicFile.Write(PathOf("m.json"), stream =>
        {
            seen = Directory.GetFiles(folder).Single();
            stream.WriteByte(1);
        });
        Assert.True(AtomicFile.IsTemporaryOf(Path.GetFileName(seen!), "m.json"), seen);
        Assert.Matches(@"^\.m\.json\.[0-9a-f]{32}\.microgpt-tmp$", Path.GetFileName(seen!));
        Assert.Equal([PathOf("m.json")], Directory.GetFiles(folder));
    }

    [Fact]
    public void OnlyExactNamesAreTakenForTemporaryFilesOfATarget()
    {
        Assert.All(Stale, name => Assert.True(AtomicFile.IsTemporaryOf(name, "m.json"), name));
        Assert.All(NotOurs, name => Assert.False(AtomicFile.IsTemporaryOf(name, "m.json"), name));
    }

    [Fact]
    public void TheNextWriteOfATargetRemovesItsStaleTemporaryFilesAndNothingElse()
    {
        foreach (string name in Stale.Concat(NotOurs)) File.WriteAllText(PathOf(name), name);
        AtomicFile.Write(PathOf("m.json"), stream => stream.WriteByte(1));
        Assert.Equal(NotOurs.Append("m.json").Order(StringComparer.Ordinal), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(NotOurs, name => Assert.Equal(name, File.ReadAllText(PathOf(name))));
    }

    [Fact]
    public void ATemporaryFileThatAWriteStillHoldsIsLeftAlone()
    {
        // As a write in another process holds its file: open, with the share a write uses.
        string busy = PathOf(Stale[0]);
        using (var held = new FileStream(busy, FileMode.CreateNew, FileAccess.Write, FileShare.Delete))
        {
            AtomicFile.Write(PathOf("m.json"), stream => stream.WriteByte(1));
            Assert.True(File.Exists(busy));
        }
        AtomicFile.Write(PathOf("m.json"), stream => stream.WriteByte(2));
        Assert.False(File.Exists(busy));
    }

    [Fact]
    public void CheckingACheckpointPathRemovesItsStaleTemporaryFilesAsAResumedRunStarts()
    {
        foreach (string name in Stale.Concat(NotOurs)) File.WriteAllText(PathOf(name), name);
        AtomicFile.CheckWritable(PathOf("m.json"));
        Assert.Equal(NotOurs.Order(StringComparer.Ordinal), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
