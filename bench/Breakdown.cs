using System.Diagnostics;
using System.Text;
using MicroGpt.Kernels;

namespace MicroGpt.Bench;

/// <summary>
/// The reference run's steps taken apart, with a stopwatch around each phase: the same calls
/// the trainer makes (Backpropagation, Adam), issued one by one.
/// </summary>
static class Breakdown
{
    public static string Run(BenchCorpus corpus)
    {
        const int steps = 5000;
        var config = new ModelConfig(corpus.Tokenizer.VocabSize);
        var model = Model.Create(config, corpus.Tokenizer, 42);
        var order = Enumerable.Range(0, corpus.Sentences.Length).ToArray();
        new Rng(42).Shuffle(order.AsSpan());
        int maxTokens = corpus.Sentences.Max(s => s.Length);
        var activations = new Activations(config, config.BlockSize);
        var gradients = new ActivationGradients(config, config.BlockSize);
        var batch = new PackedBatch(config.BlockSize, 1);
        var jobs = Gpt.PlanWeightGradients(config, 1 << 13);
        var grad = new float[model.Parameters.Length];
        var m = new float[grad.Length];
        var v = new float[grad.Length];
        var times = new long[6];
        string[] names = ["forward", "loss (softmax, cross-entropy)", "backward, activations", "backward, weight gradients", "gradient norm", "Adam"];

        for (int pass = 0; pass < 2; pass++) // the first pass warms up the JIT
        {
            Array.Clear(times);
            var total = Stopwatch.StartNew();
            for (int s = 0; s < steps; s++)
            {
                long t0 = Stopwatch.GetTimestamp();
                batch.Clear();
                batch.Add(corpus.Sentences[order[s % order.Length]], config.BlockSize);
                batch.SetMeanWeights();
                Gpt.Forward(model, activations, batch, 0, batch.Rows, withLoss: false);
                long t1 = Stopwatch.GetTimestamp();
                var logits = activations.Logits.AsSpan(0, batch.Rows * config.VocabSize);
                CrossEntropy.Forward(logits, activations.Losses, logits, batch.Targets.AsSpan(0, batch.Rows), batch.Rows, config.VocabSize);
                double loss = batch.MeanLoss(activations.Losses);
                long t2 = Stopwatch.GetTimestamp();
                Gpt.Backward(model, activations, gradients, batch, 0, batch.Rows);
                long t3 = Stopwatch.GetTimestamp();
                foreach (var job in jobs) Gpt.WeightGradients(model, activations, gradients, batch, grad, job);
                long t4 = Stopwatch.GetTimestamp();
                double norm = 0;
                foreach (float g in grad) norm += (double)g * g;
                long t5 = Stopwatch.GetTimestamp();
                Adam.Update(model.Parameters, grad, m, v, Adam.StepConstants.For(0.01 * (1 - (double)s / steps), 0.85, 0.99, 1e-8, s));
                long t6 = Stopwatch.GetTimestamp();
                times[0] += t1 - t0; times[1] += t2 - t1; times[2] += t3 - t2; times[3] += t4 - t3; times[4] += t5 - t4; times[5] += t6 - t5;
                if (!double.IsFinite(loss + norm)) throw new InvalidOperationException("diverged");
            }
            total.Stop();
            if (pass == 0) continue;

            var text = new StringBuilder();
            text.AppendLine("| phase | us/step | share |");
            text.AppendLine("| --- | --- | --- |");
            double totalUs = total.Elapsed.TotalMicroseconds / steps;
            double accounted = 0;
            for (int i = 0; i < names.Length; i++)
            {
                double us = times[i] * 1e6 / Stopwatch.Frequency / steps;
                accounted += us;
                text.AppendLine($"| {names[i]} | {us:F1} | {100 * us / totalUs:F0}% |");
            }
            text.AppendLine($"| overhead (batch packing, timers, loop) | {totalUs - accounted:F1} | {100 * (totalUs - accounted) / totalUs:F0}% |");
            text.AppendLine($"| **total** | **{totalUs:F1}** | |");
            return text.ToString();
        }
        throw new UnreachableException();
    }
}
