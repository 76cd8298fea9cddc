using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// The tutorial's Adam, exact (a true square root and divide per parameter), with AdamW's decoupled
/// weight decay wd and a clipping scale c for the gradient, in the order torch.optim.AdamW and
/// clip_grad_norm_ take them:
/// <code>
/// g = c g;  p = (1 - lr wd) p
/// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
/// p -= lr (m / (1 - b1^(s+1))) / (sqrt(v / (1 - b2^(s+1))) + eps)
/// </code>
/// Without decay or clipping, c and 1 - lr wd are 1, and multiplying by 1 changes no bit: the tutorial's numbers.
/// and reports whether every new p is finite (the trainer undoes a step that made one not). The new
/// moments stay finite while every gradient element is below 1e18 in magnitude (m within the
/// largest gradient, v within its square), which the trainer makes sure of before it calls this.
/// </summary>
static class Adam
{
    /// <summary>The bias corrections, rate, decay and gradient scale of step s (counted from 0), computed once per step in double.</summary>
    /// <remarks>1 - beta is taken in double before rounding, so that 1 - 0.85 is 0.15f, not 0.14999998f; so is 1 - lr wd, as PyTorch does.</remarks>
    public readonly record struct StepConstants(float LearningRate, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float Epsilon, float MomentCorrection, float VarianceCorrection,
        float Decay = 1, float GradientScale = 1)
    {
        public static StepConstants For(double learningRate, double beta1, double beta2, double epsilon, long step, double weightDecay = 0, double gradientScale = 1) => new(
            (float)learningRate, (float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2), (float)epsilon,
            (float)(1 / (1 - Math.Pow(beta1, step + 1))), (float)(1 / (1 - Math.Pow(beta2, step + 1))),
            (float)(1 - learningRate * weightDecay), (float)gradientScale);
    }

    /// <summary>
    /// One step over a slice of the parameters. A <paramref name="copy"/>,
    /// when given, receives the new parameters too (a trainer's per-thread copy of the weights).
    /// Returns false when a new parameter is NaN or infinite (all are written anyway).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> m, Span<float> v, in StepConstants k, Span<float> copy = default)
    {
        int i = 0;
        bool copied = !copy.IsEmpty, allFinite = true;
        if (copied && copy.Length != parameters.Length) throw new ArgumentException("The copy must be as long as the parameters.", nameof(copy));
        // The square root and the divide bound this loop. With AVX-512 their 512-bit forms retire
        // more lanes per cycle than two 256-bit ones; without it the runtime splits each Vector512
        // into two Vector256, close to a 256-bit loop, so one loop serves both (bench/RESULTS.md,
        // "Adam in Vector512").
        if (Simd.Enabled)
        {
            ref float p = ref MemoryMarshal.GetReference(parameters);
            ref float g = ref MemoryMarshal.GetReference(gradients);
            ref float mr = ref MemoryMarshal.GetReference(m);
            ref float vr = ref MemoryMarshal.GetReference(v);
            ref float cr = ref MemoryMarshal.GetReference(copy);
            var b1 = Vector512.Create(k.Beta1); var c1 = Vector512.Create(k.OneMinusBeta1);
            var b2 = Vector512.Create(k.Beta2); var c2 = Vector512.Create(k.OneMinusBeta2);
            var mc = Vector512.Create(k.MomentCorrection); var vc = Vector512.Create(k.VarianceCorrection);
            var lr = Vector512.Create(k.LearningRate); var eps = Vector512.Create(k.Epsilon);
            var decay = Vector512.Create(k.Decay); var scale = Vector512.Create(k.GradientScale);
            // x - x is 0 for a finite x and NaN otherwise, so drift stays 0 while every new parameter
            // is finite: two cheap operations beside the square root and the divide, which measured
            // no slower than no check (bench/RESULTS.md, "Training's tunables").
            var drift = Vector512<float>.Zero;
            for (; i + Vector512<float>.Count <= parameters.Length; i += Vector512<float>.Count)
            {
                nuint at = (nuint)i;
                var gi = Vector512.LoadUnsafe(ref g, at) * scale;
                var mi = b1 * Vector512.LoadUnsafe(ref mr, at) + c1 * gi;
                var vi = b2 * Vector512.LoadUnsafe(ref vr, at) + c2 * (gi * gi);
                mi.StoreUnsafe(ref mr, at);
                vi.StoreUnsafe(ref vr, at);
                var step = lr * (mi * mc) / (Vector512.Sqrt(vi * vc) + eps);
                var updated = Vector512.LoadUnsafe(ref p, at) * decay - step;
                updated.StoreUnsafe(ref p, at);
                if (copied) updated.StoreUnsafe(ref cr, at);
                drift += updated - updated;
            }
            allFinite = Vector512.EqualsAll(drift, Vector512<float>.Zero);
        }
        for (; i < parameters.Length; i++)
        {
            float gi = gradients[i] * k.GradientScale;
            m[i] = k.Beta1 * m[i] + k.OneMinusBeta1 * gi;
            v[i] = k.Beta2 * v[i] + k.OneMinusBeta2 * (gi * gi);
            parameters[i] = parameters[i] * k.Decay - k.LearningRate * (m[i] * k.MomentCorrection) / (MathF.Sqrt(v[i] * k.VarianceCorrection) + k.Epsilon);
            if (copied) copy[i] = parameters[i];
            allFinite &= float.IsFinite(parameters[i]);
        }
        return allFinite;
    }
}
