using System.Diagnostics;
using System.Text;

namespace MicroGpt.Bench;

/// <summary>
/// The engine's part of each inspection cmdlet on the tutorial's model (597 words, C 32, H 4, L 2,
/// T 16), as the cmdlet makes it: a new <see cref="Inspector"/> per call, over "the cat" or "the cat
/// eats a cake". The first call of each (with its JIT compilation, as a fresh pwsh pays it) is
/// timed alone; then 7 slices of about 0.1 s each give the median time per call, with the fastest
/// and slowest slice.
/// </summary>
static class InspectionBench
{
    const string Prompt = "the cat", Sentence = "the cat eats a cake";
    const int Slices = 7;
    const double SliceSeconds = 0.1;

    public static string Run(BenchCorpus corpus)
    {
        var model = Model.Create(new ModelConfig(corpus.Tokenizer.VocabSize), corpus.Tokenizer, 42);
        var weights = new Inspector(model).Attention(Sentence);
        string svg = Path.Combine(Path.GetTempPath(), $"microgpt-bench-attention-{Environment.ProcessId}.svg");
        (string Call, Action Run)[] calls =
        [
            ("Get-Prediction -Top 10", () => new Inspector(model).Predictions(Prompt, 10)),
            ("Get-Prediction -Each", () => new Inspector(model).Surprises(Sentence)),
            ("Get-Attention (8 heads, 6 positions)", () => new Inspector(model).Attention(Sentence)),
            ("Export-AttentionMap: drawing", () => AttentionMap.Render(weights, new AttentionMapOptions())),
            ("Export-AttentionMap: drawing and the atomic write (flushed to disk)", () => AtomicFile.Write(svg, s => s.Write(Encoding.UTF8.GetBytes(AttentionMap.Render(weights, new AttentionMapOptions()))))),
            ("Find-SimilarToken -Count 10", () => Inspector.SimilarTokens(model, "cat", 10)),
        ];
        var report = new StringBuilder();
        report.AppendLine("| call | first call (ms, with JIT) | per call, median (ms) | fastest slice | slowest slice |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        try
        {
            foreach (var (call, run) in calls)
            {
                var watch = Stopwatch.StartNew();
                run();
                double first = watch.Elapsed.TotalMilliseconds;
                var perCall = new List<double>();
                for (int s = 0; s < Slices; s++)
                {
                    int count = 0;
                    watch.Restart();
                    do { run(); count++; } while (watch.Elapsed.TotalSeconds < SliceSeconds);
                    perCall.Add(watch.Elapsed.TotalMilliseconds / count);
                }
                perCall.Sort();
                report.AppendLine($"| {call} | {first:F1} | {perCall[Slices / 2]:F3} | {perCall[0]:F3} | {perCall[^1]:F3} |");
            }
        }
        finally
        {
            File.Delete(svg);
        }
        return report.ToString();
    }
}
