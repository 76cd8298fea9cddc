using System.Globalization;
using System.Net;
using System.Text;

namespace MicroGpt;

/// <summary>One point of a loss curve: a step, its training loss, and its validation loss when measured.</summary>
public readonly record struct LossPoint(double Step, double Loss, double? ValidationLoss);

/// <summary>How a loss chart looks.</summary>
public sealed record LossChartOptions
{
    public int Width { get; init; } = 800;
    public int Height { get; init; } = 450;
    public string Title { get; init; } = "Training loss";
    /// <summary>Exponential moving average weight of the smoothed curve, 0 (none) to below 1 (as TensorBoard's slider).</summary>
    public double Smoothing { get; init; } = 0.9;
}

/// <summary>
/// A self-contained SVG line chart of training loss (raw, faint, and smoothed) and validation loss
/// (points joined by a line), with axes, ticks at round numbers, grid lines, labels and a legend.
/// No script, no external font or stylesheet: it opens in any browser and embeds in Markdown.
/// </summary>
public static class LossChart
{
    const double Left = 64, Right = 24, Top = 48, Bottom = 56;
    const string TrainColor = "#1f77b4", ValidationColor = "#d62728";

    public static string Render(IReadOnlyList<LossPoint> points, LossChartOptions options)
    {
        if (points.Count == 0) throw new ArgumentException("There are no points to chart.", nameof(points));
        if (points.Any(p => !double.IsFinite(p.Step) || !double.IsFinite(p.Loss) || p.ValidationLoss is double v && !double.IsFinite(v)))
            throw new ArgumentException("Every point of a chart must be finite.", nameof(points));
        if (!(options.Smoothing >= 0 && options.Smoothing < 1))
            throw new InvalidConfigurationException(nameof(options.Smoothing), options.Smoothing, $"Smoothing must be at least 0 and less than 1; {options.Smoothing} is not.");
        if (options.Width < 200 || options.Height < 150)
            throw new InvalidConfigurationException(nameof(options.Width), $"{options.Width}x{options.Height}", $"A chart needs at least 200 x 150 pixels; {options.Width} x {options.Height} is too small.");

        var sorted = points.OrderBy(p => p.Step).ToList();
        var validation = sorted.Where(p => p.ValidationLoss is not null).Select(p => (p.Step, Loss: p.ValidationLoss!.Value)).ToList();
        var smoothed = Smooth(sorted.Select(p => p.Loss).ToList(), options.Smoothing);
        double xMin = sorted[0].Step, xMax = Math.Max(sorted[^1].Step, xMin + 1);
        var losses = sorted.Select(p => p.Loss).Concat(validation.Select(v => v.Loss)).ToList();
        var (yTicks, yMin, yMax) = Ticks(losses.Min(), losses.Max(), 6);
        var (xTicks, _, _) = Ticks(xMin, xMax, 8);
        double plotW = options.Width - Left - Right, plotH = options.Height - Top - Bottom;
        double X(double step) => Left + (step - xMin) / (xMax - xMin) * plotW;
        double Y(double loss) => Top + (yMax - loss) / (yMax - yMin) * plotH;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{options.Width}\" height=\"{options.Height}\" viewBox=\"0 0 {options.Width} {options.Height}\" font-family=\"Segoe UI, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{options.Width}\" height=\"{options.Height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text x=\"{options.Width / 2.0}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{WebUtility.HtmlEncode(options.Title)}</text>\n"));
        foreach (double y in yTicks)
        {
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Y(y):F1}\" x2=\"{Left + plotW}\" y2=\"{Y(y):F1}\" stroke=\"#e5e5e5\"/>"));
            svg.Append(Invariant($"<text x=\"{Left - 8}\" y=\"{Y(y) + 4:F1}\" text-anchor=\"end\">{Label(y)}</text>\n"));
        }
        foreach (double x in xTicks.Where(x => x >= xMin && x <= xMax))
        {
            svg.Append(Invariant($"<line x1=\"{X(x):F1}\" y1=\"{Top}\" x2=\"{X(x):F1}\" y2=\"{Top + plotH}\" stroke=\"#f0f0f0\"/>"));
            svg.Append(Invariant($"<text x=\"{X(x):F1}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\">{Label(x)}</text>\n"));
        }
        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#333\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left + plotW / 2}\" y=\"{options.Height - 14}\" text-anchor=\"middle\">Step</text>\n"));
        svg.Append(Invariant($"<text transform=\"translate(18 {Top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">Loss (cross-entropy)</text>\n"));

        bool smoothing = options.Smoothing > 0 && sorted.Count > 2;
        svg.Append(Polyline(sorted.Select(p => (X(p.Step), Y(p.Loss))), TrainColor, smoothing ? 0.25 : 1, 1.2));
        if (smoothing) svg.Append(Polyline(sorted.Select((p, i) => (X(p.Step), Y(smoothed[i]))), TrainColor, 1, 2));
        if (validation.Count > 0)
        {
            svg.Append(Polyline(validation.Select(v => (X(v.Step), Y(v.Loss))), ValidationColor, 1, 2));
            foreach (var v in validation) svg.Append(Invariant($"<circle cx=\"{X(v.Step):F1}\" cy=\"{Y(v.Loss):F1}\" r=\"3\" fill=\"{ValidationColor}\"/>"));
            svg.Append('\n');
        }

        var legend = new List<(string Text, string Color, double Opacity)> { ("training", TrainColor, smoothing ? 0.35 : 1) };
        if (smoothing) legend.Add((Invariant($"training, smoothed ({options.Smoothing})"), TrainColor, 1));
        if (validation.Count > 0) legend.Add(("validation", ValidationColor, 1));
        for (int i = 0; i < legend.Count; i++)
        {
            double y = Top + 14 + i * 18, x = Left + plotW - 190;
            svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{legend[i].Color}\" stroke-opacity=\"{legend[i].Opacity}\" stroke-width=\"2\"/>"));
            svg.Append(Invariant($"<text x=\"{x + 30}\" y=\"{y + 4}\">{legend[i].Text}</text>\n"));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>TensorBoard's smoothing: an exponential moving average, debiased at the start.</summary>
    public static List<double> Smooth(IReadOnlyList<double> values, double weight)
    {
        var result = new List<double>(values.Count);
        double average = 0, correction = 1;
        foreach (double value in values)
        {
            average = weight * average + (1 - weight) * value;
            correction *= weight;
            result.Add(weight == 0 ? value : average / (1 - correction));
        }
        return result;
    }

    /// <summary>About <paramref name="count"/> ticks at 1, 2 or 5 times a power of ten, covering [min, max].</summary>
    static (List<double> Ticks, double Low, double High) Ticks(double min, double max, int count)
    {
        if (max <= min) { min -= 0.5; max += 0.5; }
        double raw = (max - min) / count, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        double low = Math.Floor(min / step) * step, high = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        for (double t = low; t <= high + step / 2; t += step) ticks.Add(Math.Round(t / step) * step);
        return (ticks, low, high);
    }

    static string Polyline(IEnumerable<(double X, double Y)> points, string color, double opacity, double width) =>
        Invariant($"<polyline fill=\"none\" stroke=\"{color}\" stroke-opacity=\"{opacity}\" stroke-width=\"{width}\" stroke-linejoin=\"round\" points=\"") +
        string.Join(" ", points.Select(p => Invariant($"{p.X:F1},{p.Y:F1}"))) + "\"/>\n";

    static string Label(double value) => value.ToString(Math.Abs(value) >= 1000 ? "#,0" : "0.###", CultureInfo.InvariantCulture);

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
