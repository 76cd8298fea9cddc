using System.Globalization;
using System.Net;
using System.Text;

namespace MicroGpt;

/// <summary>One point of a loss curve: a step, its training loss, and its validation loss when measured.</summary>
public readonly record struct LossPoint(double Step, double Loss, double? ValidationLoss);

/// <summary>How the loss axis turns losses into heights.</summary>
public enum AxisScale
{
    /// <summary>Equal differences of loss take equal heights.</summary>
    Linear,
    /// <summary>Equal ratios of loss take equal heights; only positive losses have a place on it.</summary>
    Log,
}

/// <summary>How a loss chart looks.</summary>
public sealed record LossChartOptions
{
    public int Width { get; init; } = 800;
    public int Height { get; init; } = 450;
    public string Title { get; init; } = "Training loss";
    /// <summary>Exponential moving average weight of the smoothed curve, 0 (none) to below 1 (as TensorBoard's slider).</summary>
    public double Smoothing { get; init; } = 0.9;
    /// <summary>The bottom of the loss axis; null fits it to the data.</summary>
    public double? YMinimum { get; init; }
    /// <summary>The top of the loss axis; null fits it to the data (on a linear axis, to the data without its spikes).</summary>
    public double? YMaximum { get; init; }
    public AxisScale YScale { get; init; } = AxisScale.Linear;
}

/// <summary>
/// A self-contained SVG line chart of training loss (raw, faint, and smoothed) and validation loss
/// (points joined by a line), with axes, ticks at round numbers, grid lines, labels and a legend.
/// No script, no external font or stylesheet: it opens in any browser and embeds in Markdown.
/// Long runs stay small and readable: beyond one point per pixel column, the raw losses are drawn
/// as each column's lowest-to-highest band and the curve as each column's mean, so the file's
/// size depends on the chart's width, not on the number of steps. On a linear axis fitted to the
/// data, spikes (a step whose loss is far above its neighbours') are left out of the fit. Every
/// point outside the axis is drawn at its edge and counted in a note under the title, and a
/// triangle at the edge marks where a spike went. Every text is placed, and squeezed if it must
/// be, to stay inside the frame.
/// </summary>
public static class LossChart
{
    const double Top = 60, Bottom = 56, AxisTitleBand = 30, TickLabelGap = 8;
    const double TitleSize = 16, NoteSize = 11, LabelSize = 12;
    const string TrainColor = "#1f77b4", ValidationColor = "#d62728", ClippedColor = "#ff7f0e";
    /// <summary>Circles mark validation points up to this many; more are drawn as a line alone.</summary>
    const int MaxValidationMarkers = 100;

    /// <summary>
    /// The width of a character in ems that text is placed by: wider than the digits and most
    /// letters of the sans-serif faces browsers pick for "Segoe UI, Helvetica, Arial, sans-serif"
    /// (Arial's digits are 0.56 em, DejaVu Sans's 0.64), so placed text stays inside the frame.
    /// </summary>
    public const double CharacterWidth = 0.7;

    public static string Render(IReadOnlyList<LossPoint> points, LossChartOptions options)
    {
        Validate(points, options);
        var sorted = points.OrderBy(p => p.Step).ToList();
        var training = new Series(sorted.Select(p => p.Step).ToArray(), sorted.Select(p => p.Loss).ToArray());
        var validationPoints = sorted.Where(p => p.ValidationLoss is not null).ToList();
        var validation = new Series(validationPoints.Select(p => p.Step).ToArray(), validationPoints.Select(p => p.ValidationLoss!.Value).ToArray());
        var plot = Layout(training, validation, options);

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{options.Width}\" height=\"{options.Height}\" viewBox=\"0 0 {options.Width} {options.Height}\" font-family=\"Segoe UI, Helvetica, Arial, sans-serif\" font-size=\"{LabelSize}\">\n"));
        svg.Append(Invariant($"<rect width=\"{options.Width}\" height=\"{options.Height}\" fill=\"white\"/>\n"));
        var frame = (Low: 2.0, High: options.Width - 2.0);
        svg.Append(Text(options.Title, options.Width / 2.0, 28, "middle", TitleSize, frame, "font-weight=\"bold\""));
        Axes(svg, plot, options, frame);

        var legend = new List<LegendEntry>();
        DrawTraining(svg, legend, training, plot, options.Smoothing);
        if (validation.Count > 0) DrawValidation(svg, legend, validation, plot);
        var outside = training.Points.Concat(validation.Points).Where(p => plot.Axis.Outside(p.Loss) != 0).ToList();
        if (outside.Count > 0)
            svg.Append(Text(Note(outside, plot.Axis), options.Width / 2.0, 46, "middle", NoteSize, frame, "fill=\"#555\""));
        var clippedSpikes = training.Spikes.Concat(validation.Spikes).Where(p => plot.Axis.Outside(p.Loss) != 0).ToList();
        if (clippedSpikes.Count > 0)
        {
            svg.Append(SpikeMarks(clippedSpikes, plot));
            legend.Add(new("spike beyond the axis", ClippedColor, 1, Swatch.Triangle));
        }
        svg.Append(Legend(legend, plot, frame));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Steps and their losses, in step order, with the spikes among them found once.</summary>
    sealed class Series
    {
        public Series(double[] steps, double[] losses)
        {
            Steps = steps;
            Losses = losses;
            IsSpike = LossChart.Spikes(losses);
        }

        public double[] Steps { get; }
        public double[] Losses { get; }
        public bool[] IsSpike { get; }
        public int Count => Steps.Length;
        public IEnumerable<(double Step, double Loss)> Points => Steps.Select((s, i) => (s, Losses[i]));
        public IEnumerable<(double Step, double Loss)> Spikes => Points.Where((_, i) => IsSpike[i]);
        public IEnumerable<double> Typical => Losses.Where((_, i) => !IsSpike[i]);
    }

    enum Swatch { Line, Band, Triangle }

    sealed record LegendEntry(string Text, string Color, double Opacity, Swatch Swatch);

    /// <summary>
    /// The loss axis fitted to the series, the step ticks that have room for their labels side by
    /// side (up to 8), and margins wide enough for the labels of both.
    /// </summary>
    static Plot Layout(Series training, Series validation, LossChartOptions options)
    {
        double height = options.Height - Top - Bottom;
        var axis = LossAxis.Fit(training.Losses.Concat(validation.Losses).ToList(), training.Typical.Concat(validation.Typical).ToList(), options, Math.Clamp((int)(height / 24), 2, 6));
        double xMin = training.Steps[0], xMax = Math.Max(training.Steps[^1], xMin + 1);
        List<double> xTicks = [];
        for (int count = 8; count >= 1; count--)
        {
            xTicks = Ticks(xMin, xMax, count).Ticks.Where(x => x >= xMin && x <= xMax).ToList();
            double widest = xTicks.Select(x => TextWidth(Label(x), LabelSize)).DefaultIfEmpty(0).Max();
            if (xTicks.Count * (widest + 12) <= options.Width - 64 - 24) break;
        }
        double left = Math.Max(64, AxisTitleBand + axis.Ticks.Select(t => TextWidth(Label(t), LabelSize)).DefaultIfEmpty(0).Max() + TickLabelGap);
        double right = Math.Max(24, xTicks.Select(x => TextWidth(Label(x), LabelSize) / 2 + 4).DefaultIfEmpty(0).Max());
        return new Plot(left, Top, options.Width - left - right, height, xMin, xMax, axis, xTicks);
    }

    /// <summary>Grid lines, tick labels, the plot's frame and the two axis titles.</summary>
    static void Axes(StringBuilder svg, Plot plot, LossChartOptions options, (double Low, double High) frame)
    {
        foreach (double y in plot.Axis.Ticks)
        {
            svg.Append(Invariant($"<line x1=\"{plot.Left:F1}\" y1=\"{plot.Y(y):F1}\" x2=\"{plot.Right:F1}\" y2=\"{plot.Y(y):F1}\" stroke=\"#e5e5e5\"/>"));
            svg.Append(Text(Label(y), plot.Left - TickLabelGap, plot.Y(y) + 4, "end", LabelSize, frame));
        }
        foreach (double x in plot.XTicks)
        {
            svg.Append(Invariant($"<line x1=\"{plot.X(x):F1}\" y1=\"{plot.Top}\" x2=\"{plot.X(x):F1}\" y2=\"{plot.Bottom:F1}\" stroke=\"#f0f0f0\"/>"));
            svg.Append(Text(Label(x), plot.X(x), plot.Bottom + 18, "middle", LabelSize, frame));
        }
        svg.Append(Invariant($"<rect x=\"{plot.Left:F1}\" y=\"{plot.Top}\" width=\"{plot.Width:F1}\" height=\"{plot.Height:F1}\" fill=\"none\" stroke=\"#333\"/>\n"));
        svg.Append(Text("Step", plot.Left + plot.Width / 2, options.Height - 14, "middle", LabelSize, frame));
        string title = plot.Axis.Scale == AxisScale.Log ? "Loss (cross-entropy, log scale)" : "Loss (cross-entropy)";
        svg.Append(VerticalText(title, 18, plot.Top + plot.Height / 2, LabelSize, (2, options.Height - 2.0)));
    }

    /// <summary>
    /// The training loss: raw and smoothed lines while there are no more points than pixel
    /// columns; beyond that each column's lowest-to-highest band and the line through its means.
    /// </summary>
    static void DrawTraining(StringBuilder svg, List<LegendEntry> legend, Series training, Plot plot, double smoothingWeight)
    {
        bool smoothing = smoothingWeight > 0 && training.Count > 2;
        var smoothed = Smooth(training.Losses, smoothingWeight);
        string smoothedLabel = Invariant($"training, smoothed ({smoothingWeight})");
        if (training.Count <= plot.Columns)
        {
            svg.Append(Polyline(training.Points.Select(p => (plot.X(p.Step), plot.Y(p.Loss))), TrainColor, smoothing ? 0.25 : 1, 1.2));
            legend.Add(new("training", TrainColor, smoothing ? 0.35 : 1, Swatch.Line));
            if (!smoothing) return;
            svg.Append(Polyline(training.Steps.Select((s, i) => (plot.X(s), plot.Y(smoothed[i]))), TrainColor, 1, 2));
            legend.Add(new(smoothedLabel, TrainColor, 1, Swatch.Line));
            return;
        }
        var columns = plot.Bin(training.Steps, training.Losses, smoothing ? smoothed : training.Losses);
        var outline = columns.Select(c => (plot.X(c.Step), plot.Y(c.Highest))).Concat(columns.AsEnumerable().Reverse().Select(c => (plot.X(c.Step), plot.Y(c.Lowest))));
        svg.Append(Band(outline, TrainColor, 0.3));
        svg.Append(Polyline(columns.Select(c => (plot.X(c.Step), plot.Y(c.Mean))), TrainColor, 1, 2));
        legend.Add(new("training, lowest to highest per pixel", TrainColor, 0.3, Swatch.Band));
        legend.Add(new(smoothing ? smoothedLabel : "training, mean per pixel", TrainColor, 1, Swatch.Line));
    }

    /// <summary>The validation loss: a line (through each pixel column's mean if there are more points than columns), and circles on up to <see cref="MaxValidationMarkers"/> points.</summary>
    static void DrawValidation(StringBuilder svg, List<LegendEntry> legend, Series validation, Plot plot)
    {
        var line = validation.Count <= plot.Columns ? validation.Points.Select(p => (plot.X(p.Step), plot.Y(p.Loss)))
            : plot.Bin(validation.Steps, validation.Losses, validation.Losses).Select(c => (plot.X(c.Step), plot.Y(c.Mean)));
        svg.Append(Polyline(line, ValidationColor, 1, 2));
        if (validation.Count <= MaxValidationMarkers)
        {
            foreach (var (step, loss) in validation.Points) svg.Append(Invariant($"<circle cx=\"{plot.X(step):F1}\" cy=\"{plot.Y(loss):F1}\" r=\"3\" fill=\"{ValidationColor}\"/>"));
            svg.Append('\n');
        }
        legend.Add(new("validation", ValidationColor, 1, Swatch.Line));
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

    /// <summary>
    /// Which values are spikes: far above the values around them. A series is cut into chunks of
    /// consecutive values (a 200th of it, at least 16), and a value is a spike when it is more than
    /// twice its chunk's median and beyond Tukey's far-out fence, Q3 + 3 (Q3 - Q1). A loss curve's
    /// fall from ln V at the start is never one: it stays within twice the median of its chunk.
    /// </summary>
    public static bool[] Spikes(IReadOnlyList<double> values)
    {
        var spikes = new bool[values.Count];
        int chunk = Math.Max(16, values.Count / 200);
        for (int start = 0; start < values.Count; start += chunk)
        {
            int count = Math.Min(chunk, values.Count - start);
            var sorted = new double[count];
            for (int i = 0; i < count; i++) sorted[i] = values[start + i];
            Array.Sort(sorted);
            double q1 = Quantile(sorted, 0.25), median = Quantile(sorted, 0.5), q3 = Quantile(sorted, 0.75);
            double fence = Math.Max(q3 + 3 * (q3 - q1), median + Math.Abs(median));
            for (int i = 0; i < count; i++) spikes[start + i] = values[start + i] > fence;
        }
        return spikes;
    }

    static double Quantile(double[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int below = (int)position;
        return below + 1 < sorted.Length ? sorted[below] + (position - below) * (sorted[below + 1] - sorted[below]) : sorted[below];
    }

    static void Validate(IReadOnlyList<LossPoint> points, LossChartOptions options)
    {
        if (points.Count == 0) throw new ArgumentException("There are no points to chart.", nameof(points));
        if (points.Any(p => !double.IsFinite(p.Step) || !double.IsFinite(p.Loss) || p.ValidationLoss is double v && !double.IsFinite(v)))
            throw new ArgumentException("Every point of a chart must be finite.", nameof(points));
        if (!(options.Smoothing >= 0 && options.Smoothing < 1))
            throw new InvalidConfigurationException(nameof(options.Smoothing), options.Smoothing, $"Smoothing must be at least 0 and less than 1; {options.Smoothing} is not.");
        if (options.Width < 200 || options.Height < 150)
            throw new InvalidConfigurationException(nameof(options.Width), $"{options.Width}x{options.Height}", $"A chart needs at least 200 x 150 pixels; {options.Width} x {options.Height} is too small.");
        foreach (var (name, value) in new[] { (nameof(options.YMinimum), options.YMinimum), (nameof(options.YMaximum), options.YMaximum) })
        {
            if (value is double v && !double.IsFinite(v))
                throw new InvalidConfigurationException(name, v, $"{name} must be a finite number; {v} is not.");
            if (value is double p && options.YScale == AxisScale.Log && p <= 0)
                throw new InvalidConfigurationException(name, p, $"A log scale has no place for {p}: {name} must be positive.");
        }
        if (options.YMinimum is double low && options.YMaximum is double high && !(low < high))
            throw new InvalidConfigurationException(nameof(options.YMaximum), high, $"YMaximum ({high}) must be greater than YMinimum ({low}).");
        if (options.YScale == AxisScale.Log && options.YMinimum is null && options.YMaximum is null && !points.Any(p => p.Loss > 0 || p.ValidationLoss > 0))
            throw new InvalidConfigurationException(nameof(options.YScale), options.YScale, "A log scale needs positive losses; none of these is.");
    }

    /// <summary>The loss axis: its ends, its scale and its ticks.</summary>
    sealed record LossAxis(double Low, double High, AxisScale Scale, List<double> Ticks)
    {
        /// <summary>
        /// The axis the options ask for: their ends where given, the others fitted to the data. A
        /// linear axis is fitted to the <paramref name="typical"/> values (the spikes left out) and
        /// rounded out to ticks; a log axis to every positive value, rounded out to 1, 2 ... 9 times
        /// a power of ten.
        /// </summary>
        public static LossAxis Fit(List<double> all, List<double> typical, LossChartOptions options, int tickCount)
        {
            double? bottom = options.YMinimum, top = options.YMaximum;
            if (options.YScale == AxisScale.Log)
            {
                var positive = all.Where(v => v > 0).ToList();
                double low = bottom ?? RoundDown(positive.Count > 0 ? positive.Min() : top!.Value / 10);
                double high = top ?? RoundUp(positive.Count > 0 ? positive.Max() : low * 10);
                if (!(high > low)) // one value, or data entirely beyond the one end given
                    (low, high) = (bottom, top) switch
                    {
                        (null, null) => (RoundDown(low / 1.5), RoundUp(high * 1.5)),
                        (null, _) => (RoundDown(high / 10), high),
                        _ => (low, RoundUp(low * 10)),
                    };
                return new(low, high, AxisScale.Log, LogTicks(low, high, tickCount));
            }
            double min = bottom ?? typical.Min(), max = top ?? typical.Max();
            if (!(max > min) && (bottom ?? top) is not null) // data entirely beyond the one end given: keep the data's span
            {
                double span = Math.Max(typical.Max() - typical.Min(), 1e-6 * Math.Max(1, Math.Abs(min)));
                (min, max) = bottom is null ? (max - span, max) : (min, min + span);
            }
            var (ticks, roundedLow, roundedHigh) = LossChart.Ticks(min, max, tickCount);
            double axisLow = bottom ?? roundedLow, axisHigh = top ?? roundedHigh, slack = 1e-9 * (axisHigh - axisLow);
            return new(axisLow, axisHigh, AxisScale.Linear, ticks.Where(t => t >= axisLow - slack && t <= axisHigh + slack).ToList());
        }

        /// <summary>Where <paramref name="loss"/> sits, from 0 at the bottom to 1 at the top; beyond them outside the axis.</summary>
        public double Fraction(double loss) => Scale == AxisScale.Log
            ? loss > 0 ? Math.Log(loss / Low) / Math.Log(High / Low) : double.NegativeInfinity
            : (loss - Low) / (High - Low);

        /// <summary>+1 above the axis, -1 below it, 0 on it.</summary>
        public int Outside(double loss) => Fraction(loss) switch { > 1 => 1, < 0 => -1, _ => 0 };

        /// <summary>Ticks at 1, 2 and 5 times powers of ten over a decade or more; over less, the round numbers of a linear axis.</summary>
        static List<double> LogTicks(double low, double high, int count)
        {
            if (high / low < 20)
                return LossChart.Ticks(low, high, count).Ticks.Where(t => t > 0 && t >= low * (1 - 1e-9) && t <= high * (1 + 1e-9)).ToList();
            var ticks = new List<double>();
            foreach (double factor in new[] { 1.0, 2, 5 })
                for (int power = (int)Math.Floor(Math.Log10(low)); power <= (int)Math.Ceiling(Math.Log10(high)); power++)
                {
                    double tick = factor * Math.Pow(10, power);
                    if (tick >= low * (1 - 1e-9) && tick <= high * (1 + 1e-9)) ticks.Add(tick);
                }
            if (ticks.Count > 2 * count) ticks.RemoveAll(t => Math.Abs(Math.Log10(t) - Math.Round(Math.Log10(t))) > 1e-9); // decades only
            ticks.Sort();
            return ticks;
        }

        /// <summary>The largest 1, 2 ... 9 times a power of ten at most <paramref name="value"/>.</summary>
        static double RoundDown(double value)
        {
            double magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
            return Math.Floor(value / magnitude + 1e-9) * magnitude;
        }

        /// <summary>The smallest 1, 2 ... 10 times a power of ten at least <paramref name="value"/>.</summary>
        static double RoundUp(double value)
        {
            double magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
            return Math.Ceiling(value / magnitude - 1e-9) * magnitude;
        }
    }

    /// <summary>The plotting area and the mapping of (step, loss) to pixels, clamped to the frame.</summary>
    sealed record Plot(double Left, double Top, double Width, double Height, double XMin, double XMax, LossAxis Axis, List<double> XTicks)
    {
        public double Right => Left + Width;
        public double Bottom => Top + Height;
        /// <summary>Pixel columns: beyond this many points a series is drawn per column.</summary>
        public int Columns => Math.Max(1, (int)Width);
        public double X(double step) => Left + (step - XMin) / (XMax - XMin) * Width;
        public double Y(double loss) => Top + (1 - Math.Clamp(Axis.Fraction(loss), 0, 1)) * Height;

        /// <summary>Per pixel column that has points: their mean step, the lowest and highest of <paramref name="values"/>, and the mean of <paramref name="line"/>.</summary>
        public List<(double Step, double Lowest, double Highest, double Mean)> Bin(double[] steps, double[] values, IReadOnlyList<double> line)
        {
            var result = new List<(double, double, double, double)>();
            int column = -1, count = 0;
            double stepSum = 0, lowest = 0, highest = 0, lineSum = 0;
            for (int i = 0; i <= steps.Length; i++)
            {
                int next = i < steps.Length ? Math.Clamp((int)((X(steps[i]) - Left) / Width * Columns), 0, Columns - 1) : -2;
                if (next != column && count > 0)
                {
                    result.Add((stepSum / count, lowest, highest, lineSum / count));
                    count = 0;
                }
                if (i == steps.Length) break;
                column = next;
                if (count == 0) { stepSum = 0; lineSum = 0; lowest = highest = values[i]; }
                stepSum += steps[i];
                lineSum += line[i];
                lowest = Math.Min(lowest, values[i]);
                highest = Math.Max(highest, values[i]);
                count++;
            }
            return result;
        }
    }

    /// <summary>A triangle at the edge a clipped spike is drawn on, pointing the way it went; one per pixel column and edge.</summary>
    static string SpikeMarks(List<(double Step, double Loss)> spikes, Plot plot)
    {
        var marks = new StringBuilder();
        foreach (var (x, side) in spikes.Select(p => (Math.Round(plot.X(p.Step)), plot.Axis.Outside(p.Loss))).Distinct())
            marks.Append(side > 0 ? Triangle(x, plot.Top, 7, ClippedColor) : Triangle(x, plot.Bottom, -7, ClippedColor));
        return marks.Append('\n').ToString();
    }

    /// <summary>The legend, in the plot's top right corner on a white ground; left out of a plot too small to hold it.</summary>
    static string Legend(List<LegendEntry> entries, Plot plot, (double Low, double High) frame)
    {
        double width = 38 + entries.Max(e => TextWidth(e.Text, LabelSize)), height = entries.Count * 18 + 6;
        if (width + 8 > plot.Width || height + 8 > plot.Height) return "";
        double x = plot.Right - width + 2;
        var legend = new StringBuilder();
        legend.Append(Invariant($"<rect x=\"{x - 6:F1}\" y=\"{plot.Top + 4}\" width=\"{width:F1}\" height=\"{height}\" fill=\"white\" fill-opacity=\"0.85\"/>"));
        for (int i = 0; i < entries.Count; i++)
        {
            var (text, color, opacity, swatch) = entries[i];
            double y = plot.Top + 16 + i * 18;
            legend.Append(swatch switch
            {
                Swatch.Band => Invariant($"<rect x=\"{x:F1}\" y=\"{y - 5}\" width=\"24\" height=\"10\" fill=\"{color}\" fill-opacity=\"{opacity}\"/>"),
                Swatch.Triangle => Triangle(x + 12, y - 4, 7, color),
                _ => Invariant($"<line x1=\"{x:F1}\" y1=\"{y}\" x2=\"{x + 24:F1}\" y2=\"{y}\" stroke=\"{color}\" stroke-opacity=\"{opacity}\" stroke-width=\"2\"/>"),
            });
            legend.Append(Text(text, x + 30, y + 4, "start", LabelSize, frame));
        }
        return legend.ToString();
    }

    /// <summary>A triangle with its tip at (x, y), <paramref name="height"/> pixels tall (negative: pointing down).</summary>
    static string Triangle(double x, double y, double height, string color) =>
        Invariant($"<polygon points=\"{x - 4:F1},{y + height:F1} {x + 4:F1},{y + height:F1} {x:F1},{y:F1}\" fill=\"{color}\"/>");

    /// <summary>"48 losses above 10 are drawn at the top edge (highest 174.3, step 150,001)", and so on for below and for both.</summary>
    static string Note(List<(double Step, double Loss)> outside, LossAxis axis)
    {
        var above = outside.Where(p => axis.Outside(p.Loss) > 0).ToList();
        var below = outside.Where(p => axis.Outside(p.Loss) < 0).ToList();
        static string Losses(int count) => count == 1 ? "1 loss" : Invariant($"{count:N0} losses");
        var (counts, where) = (above.Count, below.Count) switch
        {
            (> 0, > 0) => (Invariant($"{Losses(above.Count)} above {Label(axis.High)} and {below.Count:N0} below {Label(axis.Low)} are"), "edges"),
            (> 0, _) => (Invariant($"{Losses(above.Count)} above {Label(axis.High)} {(above.Count == 1 ? "is" : "are")}"), "top edge"),
            _ => (Invariant($"{Losses(below.Count)} below {Label(axis.Low)} {(below.Count == 1 ? "is" : "are")}"), "bottom edge"),
        };
        var extreme = above.Count > 0 ? ("highest", above.MaxBy(p => p.Loss)) : ("lowest", below.MinBy(p => p.Loss));
        return Invariant($"{counts} drawn at the {where} ({extreme.Item1} {extreme.Item2.Loss:G4}, step {Label(extreme.Item2.Step)})");
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

    static string Band(IEnumerable<(double X, double Y)> outline, string color, double opacity) =>
        Invariant($"<polygon fill=\"{color}\" fill-opacity=\"{opacity}\" stroke=\"{color}\" stroke-opacity=\"{opacity}\" stroke-width=\"1\" stroke-linejoin=\"round\" points=\"") +
        string.Join(" ", outline.Select(p => Invariant($"{p.X:F1},{p.Y:F1}"))) + "\"/>\n";

    /// <summary>
    /// A line of text anchored at (x, y), moved or squeezed (textLength) as little as needed to lie
    /// within <paramref name="frame"/> horizontally, by its estimated width.
    /// </summary>
    static string Text(string text, double x, double y, string anchor, double size, (double Low, double High) frame, string attributes = "")
    {
        double width = TextWidth(text, size), available = frame.High - frame.Low;
        string squeeze = "";
        if (width > available)
        {
            (x, anchor, width) = (frame.Low, "start", available);
            squeeze = Invariant($" textLength=\"{available:F1}\" lengthAdjust=\"spacingAndGlyphs\"");
        }
        double start = anchor switch { "middle" => x - width / 2, "end" => x - width, _ => x };
        x += Math.Max(0, frame.Low - start) - Math.Max(0, start + width - frame.High);
        string extra = attributes.Length > 0 ? " " + attributes : "";
        string sizeAttribute = size == LabelSize ? "" : Invariant($" font-size=\"{size}\"");
        return Invariant($"<text x=\"{x:F1}\" y=\"{y:F1}\" text-anchor=\"{anchor}\"{sizeAttribute}{squeeze}{extra}>{WebUtility.HtmlEncode(text)}</text>\n");
    }

    /// <summary>Text read bottom to top, centred on (x, y), squeezed to the vertical <paramref name="frame"/> if it is longer.</summary>
    static string VerticalText(string text, double x, double y, double size, (double Low, double High) frame)
    {
        double width = Math.Min(TextWidth(text, size), frame.High - frame.Low);
        y = Math.Clamp(y, frame.Low + width / 2, frame.High - width / 2);
        string squeeze = width < TextWidth(text, size) ? Invariant($" textLength=\"{width:F1}\" lengthAdjust=\"spacingAndGlyphs\"") : "";
        return Invariant($"<text transform=\"translate({x:F1} {y:F1}) rotate(-90)\" text-anchor=\"middle\"{squeeze}>{WebUtility.HtmlEncode(text)}</text>\n");
    }

    /// <summary>The width text is placed by: <see cref="CharacterWidth"/> ems a character.</summary>
    static double TextWidth(string text, double size) => text.Length * CharacterWidth * size;

    static string Label(double value) => value switch
    {
        _ when Math.Abs(value) >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        _ when value != 0 && Math.Abs(value) < 0.001 => value.ToString("G3", CultureInfo.InvariantCulture),
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
