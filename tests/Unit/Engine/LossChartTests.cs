using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>Loss charts of long, spiky runs: small files, the curve's shape kept, spikes clipped and marked, every label in the frame.</summary>
public class LossChartTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    const string TrainColor = "#1f77b4", ClippedColor = "#ff7f0e";

    /// <summary>The issue's bound for a 200,000-step chart: about 500 KB (the raw polylines took 4.8 MB).</summary>
    const int MaxLongRunBytes = 500_000;

    /// <summary>
    /// A long run as training writes it: the loss falls from 6.4 towards 3 with single-sentence
    /// noise (about 2.6 to 3.8 between the quartiles, as a real 200,000-step log has), plus the
    /// spikes a real run shows now and then, the largest at 174; validation every 20,000 steps.
    /// </summary>
    static List<LossPoint> LongSpikyRun(int steps = 200_000)
    {
        var rng = new Random(11);
        var points = new List<LossPoint>(steps);
        for (int s = 1; s <= steps; s++)
        {
            double trend = 3 + 3.4 * Math.Exp(-s / 300.0);
            double noise = (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * 1.6;
            double loss = s switch { 13_067 => 33.5, 22_398 => 50.8, 150_001 => 174.3, _ when s % 9_973 == 0 => 14, _ => trend + noise };
            points.Add(new LossPoint(s, loss, s % 20_000 == 0 ? trend : null));
        }
        return points;
    }

    [Fact]
    public void ALongSpikyRunIsSmallAndDrawsTheCurveNotTheSpikes()
    {
        var points = LongSpikyRun();
        string svg = LossChart.Render(points, new LossChartOptions());
        Assert.True(Encoding.UTF8.GetByteCount(svg) <= MaxLongRunBytes, $"{Encoding.UTF8.GetByteCount(svg):N0} bytes");
        var doc = XDocument.Parse(svg);
        var options = new LossChartOptions();
        foreach (var shape in doc.Root!.Elements().Where(e => e.Name.LocalName is "polyline" or "polygon"))
            Assert.True(Coordinates(shape).Count <= 2 * options.Width, $"a {shape.Name.LocalName} of {Coordinates(shape).Count} points");

        // The axis fits the run, not its spikes: the top tick is near the start of the curve, not at 174.
        var axis = LossAxis(doc);
        Assert.InRange(axis.High, 6.4, 12);
        Assert.True(axis.Low <= 2);

        // The curve keeps its shape: the mean line starts near 5.2 (its first pixel averages the fall
        // over the first 280 steps) and ends within 0.15 of the trend's 3 (a pixel's noise averages out).
        var mean = Coordinates(doc.Root.Elements(Svg + "polyline").Single(e => (string?)e.Attribute("stroke") == TrainColor && (string?)e.Attribute("stroke-width") == "2"));
        Assert.InRange(axis.LossAt(mean[0].Y), 4.8, 5.6);
        Assert.InRange(axis.LossAt(mean[^1].Y), 2.85, 3.15);
        Assert.True(mean.Max(p => p.Y) - mean.Min(p => p.Y) > 0.2 * axis.Height, "the curve is a flat line");

        // The spikes are clipped at the top, marked, and counted with the highest named.
        var triangles = doc.Root.Elements(Svg + "polygon").Where(e => (string?)e.Attribute("fill") == ClippedColor).ToList();
        var marks = triangles.Where(m => Coordinates(m).Any(p => Math.Abs(p.Y - axis.Top) < 0.1)).ToList();
        Assert.InRange(marks.Count, 3, 25);
        Assert.Equal(triangles.Count - 1, marks.Count); // and the legend's
        string note = Texts(doc).Single(t => t.Value.Contains("drawn at the")).Value;
        Assert.Contains("above", note);
        Assert.Contains("highest 174.3, step 150,001", note);
    }

    [Fact]
    public void ShortRunsKeepEveryPoint()
    {
        var points = LongSpikyRun(300);
        var doc = XDocument.Parse(LossChart.Render(points, new LossChartOptions { Smoothing = 0 }));
        var raw = doc.Root!.Elements(Svg + "polyline").First(e => (string?)e.Attribute("stroke") == TrainColor);
        Assert.Equal(300, Coordinates(raw).Count);
        Assert.DoesNotContain(doc.Root.Elements(Svg + "polygon"), e => (string?)e.Attribute("fill") == TrainColor);
    }

    [Fact]
    public void SpikesAreFarAboveTheirNeighboursAndTheFallAtTheStartIsNotOne()
    {
        var losses = LongSpikyRun(5_000).Select(p => p.Loss).ToArray();
        losses[2_000] = 20;
        var spikes = LossChart.Spikes(losses);
        Assert.True(spikes[2_000]);
        Assert.DoesNotContain(true, spikes.Take(300)); // 6.4 falling to 3.4, with noise up to 2.4 above it
        Assert.Equal(1, spikes.Count(s => s));
        Assert.Empty(LossChart.Spikes([]));
        Assert.Equal([false, false, false], LossChart.Spikes([3, 3, 3]));
    }

    [Theory]
    [InlineData(800, 450, "Training loss", AxisScale.Linear, 200_000)]
    [InlineData(800, 450, "Training loss", AxisScale.Log, 200_000)]
    [InlineData(200, 150, "Training loss", AxisScale.Linear, 200_000)]
    [InlineData(1200, 300, "A title much longer than the chart is wide, which must be squeezed into the frame rather than cut off", AxisScale.Linear, 300)]
    [InlineData(300, 200, "Small", AxisScale.Log, 20)]
    public void EveryLabelIsInsideTheFrame(int width, int height, string title, AxisScale scale, int steps)
    {
        var options = new LossChartOptions { Width = width, Height = height, Title = title, YScale = scale };
        var doc = XDocument.Parse(LossChart.Render(LongSpikyRun(steps), options));
        var texts = Texts(doc).ToList();
        Assert.NotEmpty(texts);
        foreach (var text in texts)
        {
            double size = (double?)text.Attribute("font-size") ?? (double)doc.Root!.Attribute("font-size")!;
            double length = (double?)text.Attribute("textLength") ?? text.Value.Length * LossChart.CharacterWidth * size;
            var (low, high, across) = Extent(text, length);
            double limit = across ? height : width;
            Assert.True(low >= 0 && high <= limit, $"'{text.Value}' spans {low:F1} to {high:F1} of {limit}");
            if (!across)
            {
                double baseline = (double)text.Attribute("y")!;
                Assert.True(baseline - size >= 0 && baseline <= height, $"'{text.Value}' has its baseline at {baseline}");
            }
        }
    }

    [Fact]
    public void AGivenRangeIsKeptAndWhatLiesBeyondItIsCounted()
    {
        var points = LongSpikyRun(20_000);
        var doc = XDocument.Parse(LossChart.Render(points, new LossChartOptions { YMinimum = 2.5, YMaximum = 4 }));
        var axis = LossAxis(doc);
        Assert.Equal(2.5, axis.Low, 0.01);
        Assert.Equal(4, axis.High, 0.01);
        Assert.All(TickLabels(doc), t => Assert.InRange(t.Loss, 2.5, 4));
        int above = points.Count(p => p.Loss > 4), below = points.Count(p => p.Loss < 2.5);
        string counted = string.Create(CultureInfo.InvariantCulture, $"{above:N0} losses above 4 and {below:N0} below 2.5 are drawn at the edges");
        Assert.Contains(Texts(doc), t => t.Value.StartsWith(counted));

        var top = LossAxis(XDocument.Parse(LossChart.Render(points, new LossChartOptions { YMaximum = 5 })));
        Assert.Equal(5, top.High, 0.01);
        Assert.True(top.Low < 2.5);
    }

    [Fact]
    public void ALogScaleShowsEveryPositiveLossSpikesIncluded()
    {
        var doc = XDocument.Parse(LossChart.Render(LongSpikyRun(), new LossChartOptions { YScale = AxisScale.Log }));
        var ticks = TickLabels(doc).Select(t => t.Loss).ToList();
        Assert.Equal([1, 2, 5, 10, 20, 50, 100, 200], ticks);
        var positions = TickLabels(doc).Select(t => t.Y).ToList();
        // Equal ratios, equal heights: 1 to 10 spans as much as 10 to 100.
        Assert.Equal(positions[0] - positions[3], positions[3] - positions[6], 0.2);
        Assert.DoesNotContain(Texts(doc), t => t.Value.Contains("drawn at the"));
        Assert.Contains("Loss (cross-entropy, log scale)", Texts(doc).Select(t => t.Value));
    }

    [Theory]
    [InlineData(4.0, 4.0, AxisScale.Linear, "YMaximum")]
    [InlineData(5.0, 2.0, AxisScale.Linear, "YMaximum")]
    [InlineData(0.0, 5.0, AxisScale.Log, "YMinimum")]
    [InlineData(double.NaN, null, AxisScale.Linear, "YMinimum")]
    public void ARangeThatCannotBeDrawnIsRefusedNamingTheSetting(double? minimum, double? maximum, AxisScale scale, string setting)
    {
        var ex = Assert.Throws<InvalidConfigurationException>(() => LossChart.Render(LongSpikyRun(10), new LossChartOptions { YMinimum = minimum, YMaximum = maximum, YScale = scale }));
        Assert.Equal(setting, ex.Parameter);
    }

    /// <summary>The horizontal extent of a text (or the vertical one of a rotated text, across = true), by its anchor.</summary>
    static (double Low, double High, bool Across) Extent(XElement text, double length)
    {
        string anchor = (string?)text.Attribute("text-anchor") ?? "start";
        double offset = anchor switch { "middle" => length / 2, "end" => length, _ => 0 };
        if (text.Attribute("transform") is { } transform)
        {
            var match = Regex.Match(transform.Value, @"translate\(([-\d.]+) ([-\d.]+)\) rotate\(-90\)");
            Assert.True(match.Success, transform.Value);
            double y = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            return (y - length + offset, y + offset, true); // rotated -90: the text runs upwards from its anchor
        }
        double x = (double)text.Attribute("x")!;
        return (x - offset, x - offset + length, false);
    }

    static IEnumerable<XElement> Texts(XDocument doc) => doc.Root!.Elements(Svg + "text");

    /// <summary>The loss axis's tick labels (right-aligned, left of the plot) and their heights.</summary>
    static List<(double Loss, double Y)> TickLabels(XDocument doc) =>
        Texts(doc).Where(t => (string?)t.Attribute("text-anchor") == "end")
            .Select(t => (double.Parse(t.Value, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture), (double)t.Attribute("y")! - 4))
            .ToList();

    /// <summary>The plot's frame (the rectangle with a dark stroke) and the losses at its bottom and top edges, from the end ticks.</summary>
    static PlotAxis LossAxis(XDocument doc)
    {
        var frame = doc.Root!.Elements(Svg + "rect").Single(r => (string?)r.Attribute("stroke") == "#333");
        double top = (double)frame.Attribute("y")!, height = (double)frame.Attribute("height")!;
        var ticks = TickLabels(doc);
        var (first, last) = (ticks.MinBy(t => t.Loss), ticks.MaxBy(t => t.Loss));
        double perPixel = (last.Loss - first.Loss) / (first.Y - last.Y);
        return new PlotAxis(top, height, first.Loss - (top + height - first.Y) * perPixel, last.Loss + (last.Y - top) * perPixel);
    }

    sealed record PlotAxis(double Top, double Height, double Low, double High)
    {
        public double LossAt(double y) => High - (y - Top) / Height * (High - Low);
    }

    static List<(double X, double Y)> Coordinates(XElement shape) =>
        ((string)shape.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split(','))
            .Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
}
