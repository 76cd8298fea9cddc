using System.Diagnostics;
using System.Text;
using MicroGpt.Kernels;

namespace MicroGpt.Bench;

/// <summary>
/// The reference run's steps taken apart, with a stopwatch around each phase: the same calls
/// the trainer makes (Gpt, the step runner's kernels, Adam), issued one by one on one thread.
/// </summary>
sealed class Breakdown
{
    const int Steps = 5000;
    static readonly string[] Names = ["forward", "loss (softmax, cross-entropy)", "backward, activations", "backward, weight gradients and their norm", "Adam"];

    readonly ModelConfig config;
    readonly Model model;
    readonly SentenceBatches batches;
    readonly TrainingOptions options = new() { Steps = Steps };
    readonly Activations activations;
    readonly ActivationGradients gradients;
    readonly PackedBatch batch;
    readonly WeightGradientJob[] jobs;
    readonly float[] grad, m, v;
    readonly long[] ticks = new long[Names.Length];

    Breakdown(BenchCorpus corpus)
    {
        config = new ModelConfig(corpus.Tokenizer.VocabSize);
        model = Model.Create(config, corpus.Tokenizer, 42);
        batches = new SentenceBatches(model, corpus.Sentences, options); // the trainer's order, one sentence a step
        activations = new Activations(config, config.BlockSize);
        gradients = new ActivationGradients(config, config.BlockSize);
        batch = new PackedBatch(config.BlockSize, 1);
        jobs = WorkPlan.PlanWeightGradients(config);
        grad = new float[model.Parameters.Length];
        m = new float[grad.Length];
        v = new float[grad.Length];
    }

    public static string Run(BenchCorpus corpus)
    {
        var breakdown = new Breakdown(corpus);
        breakdown.Pass(); // warms up the JIT
        double totalUs = breakdown.Pass();
        return breakdown.Table(totalUs);
    }

    /// <summary>Runs the 5,000 steps; returns the mean wall time of a step in microseconds.</summary>
    double Pass()
    {
        Array.Clear(ticks);
        long start = Stopwatch.GetTimestamp();
        for (int s = 0; s < Steps; s++) Step(s);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / Steps;
    }

    // One step, phase by phase; a method of its own so that the JIT optimizes it fully (a long
    // loop in a method called once runs on-stack-replaced code instead).
    void Step(int s)
    {
        long t0 = Stopwatch.GetTimestamp();
        batches.Fill(batch, s);
        Gpt.Forward(model, activations, batch, 0, batch.Rows, withLoss: false);
        long t1 = Stopwatch.GetTimestamp();
        var logits = activations.Logits.AsSpan(0, batch.Rows * config.VocabSize);
        CrossEntropy.Forward(logits, activations.Losses, logits, batch.Targets.AsSpan(0, batch.Rows), batch.Rows, config.VocabSize);
        double loss = batch.MeanLoss(activations.Losses);
        long t2 = Stopwatch.GetTimestamp();
        Gpt.Backward(model, activations, gradients, batch, 0, batch.Rows);
        long t3 = Stopwatch.GetTimestamp();
        double norm = 0;
        foreach (var job in jobs)
        {
            grad.AsSpan(job.Offset, job.Length).Clear();
            Gpt.WeightGradients(model, activations, gradients, batch, grad, job);
            norm += GradientNorm.SumOfSquares(grad.AsSpan(job.Offset, job.Length));
        }
        long t4 = Stopwatch.GetTimestamp();
        Adam.Update(model.Parameters, grad, m, v, Adam.StepConstants.For(LearningRate.At(options, s), options.Beta1, options.Beta2, options.Epsilon, s));
        long t5 = Stopwatch.GetTimestamp();
        ticks[0] += t1 - t0; ticks[1] += t2 - t1; ticks[2] += t3 - t2; ticks[3] += t4 - t3; ticks[4] += t5 - t4;
        if (!double.IsFinite(loss + norm)) throw new InvalidOperationException("diverged");
    }

    string Table(double totalUs)
    {
        var text = new StringBuilder();
        text.AppendLine("| phase | us/step | share |");
        text.AppendLine("| --- | --- | --- |");
        double accounted = 0;
        for (int i = 0; i < Names.Length; i++)
        {
            double us = ticks[i] * 1e6 / Stopwatch.Frequency / Steps;
            accounted += us;
            text.AppendLine($"| {Names[i]} | {us:F1} | {100 * us / totalUs:F0}% |");
        }
        text.AppendLine($"| overhead (batch packing, timers, loop) | {totalUs - accounted:F1} | {100 * (totalUs - accounted) / totalUs:F0}% |");
        text.AppendLine($"| **total** | **{totalUs:F1}** | |");
        return text.ToString();
    }
}
