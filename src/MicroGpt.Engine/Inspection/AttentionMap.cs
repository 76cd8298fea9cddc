using System.Globalization;
using System.Net;
using System.Text;

namespace MicroGpt;

/// <summary>How an attention map looks.</summary>
public sealed record AttentionMapOptions
{
    /// <summary>The picture's title; null names the text the weights are of.</summary>
    public string? Title { get; init; }
}

/// <summary>
/// A self-contained SVG of attention weights: one heat map per layer and head (layers in rows,
/// heads in columns), each a grid of query positions (rows, the token attending) by key positions
/// (columns, the token attended to), with the tokens on both axes, one colour scale from 0 to 1 for
/// every map, a title and a line saying how to read it. Keys after their query (which the causal
/// mask hides) and weights not given are grey. Each cell carries its numbers as a tooltip. No
/// script, no external font or stylesheet. Cells and labels grow for short texts and shrink to a
/// floor that keeps labels legible for long ones: 64 tokens give maps of 704 pixels a side.
/// </summary>
public static class AttentionMap
{
    /// <summary>The most positions a map draws: more would not be read, and a hostile position would ask for an enormous picture.</summary>
    public const int MaxPositions = 1024;

    /// <summary>The most heat maps (layer and head pairs) one picture holds.</summary>
    public const int MaxMaps = 256;

    const double Margin = 20, TitleSize = 16, NoteSize = 11, HeadingSize = 12, Gap = 28;
    const double ScaleTop = 60, ScaleWidth = 240, ScaleHeight = 12, GridTop = 112;
    const int LongestLabel = 12; // characters of a token shown on an axis; the tooltip has all of it
    const string Unseen = "#d9d9d9";

    /// <summary>ColorBrewer's sequential "Blues": light for a weight of 0, dark for 1.</summary>
    static readonly (byte R, byte G, byte B)[] Blues =
    [
        (0xf7, 0xfb, 0xff), (0xde, 0xeb, 0xf7), (0xc6, 0xdb, 0xef), (0x9e, 0xca, 0xe1), (0x6b, 0xae, 0xd6),
        (0x42, 0x92, 0xc6), (0x21, 0x71, 0xb5), (0x08, 0x51, 0x9c), (0x08, 0x30, 0x6b),
    ];

    /// <summary>The colour of <paramref name="weight"/> (0 to 1) on the scale, as #rrggbb.</summary>
    public static string ColorOf(double weight)
    {
        double x = Math.Clamp(weight, 0, 1) * (Blues.Length - 1);
        int i = Math.Min((int)x, Blues.Length - 2);
        double f = x - i;
        byte Mix(byte a, byte b) => (byte)Math.Round(a + (b - a) * f);
        var (lo, hi) = (Blues[i], Blues[i + 1]);
        return $"#{Mix(lo.R, hi.R):x2}{Mix(lo.G, hi.G):x2}{Mix(lo.B, hi.B):x2}";
    }

    /// <summary>The side of one cell in pixels for a map of <paramref name="positions"/> positions.</summary>
    public static double CellSize(int positions) => Math.Clamp(Math.Floor(400.0 / positions), 11, 28);

    /// <summary>The font size of the token labels beside cells of <paramref name="cell"/> pixels.</summary>
    public static double LabelSize(double cell) => Math.Min(12, cell - 1);

    public static string Render(IReadOnlyList<AttentionWeight> weights, AttentionMapOptions options)
    {
        var tokens = Validate(weights);
        int n = tokens.Length;
        var layers = weights.Select(w => w.Layer).Distinct().Order().ToList();
        var heads = weights.Select(w => w.Head).Distinct().Order().ToList();
        var cells = weights.ToDictionary(w => (w.Layer, w.Head, w.QueryPosition, w.KeyPosition), w => w.Weight);

        string title = options.Title ?? "Attention over: " + string.Join(" ", tokens.Select(Tokenizer.Printable));
        double cell = CellSize(n), labelSize = LabelSize(cell);
        double band = tokens.Max(t => TextWidth(Label(t), labelSize)) + 6; // room for the token labels
        double side = n * cell;
        double mapWidth = band + side + Gap, mapHeight = HeadingSize + 8 + side + band + Gap;
        string note = "Rows: the query (the token attending). Columns: the key (the token attended to). Each row's weights add up to 1.";
        double width = Math.Ceiling(Math.Max(2 * Margin + heads.Count * mapWidth - Gap,
            2 * Margin + Math.Max(TextWidth(title, TitleSize), Math.Max(TextWidth(note, NoteSize), ScaleWidth + 200))));
        double height = Math.Ceiling(GridTop + layers.Count * mapHeight - Gap + Margin);

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Segoe UI, Helvetica, Arial, sans-serif\" font-size=\"{labelSize}\">\n"));
        svg.Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"));
        svg.Append(Text(title, Margin, 30, "start", TitleSize, "font-weight=\"bold\""));
        svg.Append(Text(note, Margin, 48, "start", NoteSize, "fill=\"#555\""));
        ColourScale(svg);

        for (int row = 0; row < layers.Count; row++)
            for (int column = 0; column < heads.Count; column++)
            {
                double left = Margin + column * mapWidth + band, top = GridTop + row * mapHeight + HeadingSize + 8;
                svg.Append(Text($"layer {layers[row]}, head {heads[column]}", left + side / 2, top - 8, "middle", HeadingSize, "font-weight=\"bold\""));
                svg.Append(Invariant($"<rect x=\"{left:F1}\" y=\"{top:F1}\" width=\"{side:F1}\" height=\"{side:F1}\" fill=\"{Unseen}\"/>\n"));
                for (int q = 0; q < n; q++)
                    for (int k = 0; k <= q; k++)
                    {
                        if (!cells.TryGetValue((layers[row], heads[column], q, k), out double w)) continue;
                        svg.Append(Invariant($"<rect class=\"cell\" x=\"{left + k * cell:F1}\" y=\"{top + q * cell:F1}\" width=\"{cell:F1}\" height=\"{cell:F1}\" fill=\"{ColorOf(w)}\"><title>"));
                        svg.Append(WebUtility.HtmlEncode(Invariant($"layer {layers[row]}, head {heads[column]}: {Tokenizer.Printable(tokens[q])} ({q}) attends to {Tokenizer.Printable(tokens[k])} ({k}) with {w:0.###}")));
                        svg.Append("</title></rect>\n");
                    }
                svg.Append(Invariant($"<rect x=\"{left:F1}\" y=\"{top:F1}\" width=\"{side:F1}\" height=\"{side:F1}\" fill=\"none\" stroke=\"#333\"/>\n"));
                for (int p = 0; p < n; p++)
                {
                    double middle = p * cell + cell / 2 + labelSize / 3;
                    svg.Append(Text(Label(tokens[p]), left - 4, top + middle, "end", labelSize, "class=\"query\""));
                    svg.Append(Invariant($"<text class=\"key\" transform=\"translate({left + middle:F1} {top + side + 4:F1}) rotate(-90)\" text-anchor=\"end\">{WebUtility.HtmlEncode(Label(tokens[p]))}</text>\n"));
                }
            }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>The tokens at positions 0..n-1, from the weights; refuses weights that do not make one text's maps.</summary>
    static string[] Validate(IReadOnlyList<AttentionWeight> weights)
    {
        if (weights.Count == 0) throw new ArgumentException("There are no attention weights to draw.", nameof(weights));
        var tokens = new Dictionary<int, string>();
        var seen = new HashSet<(int, int, int, int)>();
        var maps = new HashSet<(int, int)>();
        foreach (var w in weights)
        {
            if (!(w.Weight >= 0 && w.Weight <= 1))
                throw new InvalidConfigurationException(nameof(w.Weight), w.Weight, $"An attention weight lies between 0 and 1; {w.Weight} (layer {w.Layer}, head {w.Head}, query {w.QueryPosition}, key {w.KeyPosition}) does not.");
            if (w.KeyPosition < 0 || w.KeyPosition > w.QueryPosition || w.QueryPosition >= MaxPositions)
                throw new InvalidConfigurationException(nameof(w.KeyPosition), $"{w.QueryPosition}, {w.KeyPosition}",
                    $"A query attends to the keys from position 0 to its own, below {MaxPositions}: query {w.QueryPosition} and key {w.KeyPosition} are not such a pair.");
            if (!seen.Add((w.Layer, w.Head, w.QueryPosition, w.KeyPosition)))
                throw new InvalidConfigurationException(nameof(w.KeyPosition), $"{w.QueryPosition}, {w.KeyPosition}",
                    $"Layer {w.Layer}, head {w.Head} has two weights for query {w.QueryPosition} and key {w.KeyPosition}: the weights of one text at a time can be drawn.");
            if (maps.Add((w.Layer, w.Head)) && maps.Count > MaxMaps)
                throw new InvalidConfigurationException(nameof(w.Layer), maps.Count, $"An attention map draws at most {MaxMaps} layer and head pairs; these weights have more.");
            Place(w.QueryPosition, w.QueryToken);
            Place(w.KeyPosition, w.KeyToken);
        }
        int n = tokens.Keys.Max() + 1;
        return Enumerable.Range(0, n).Select(p => tokens.GetValueOrDefault(p, "")).ToArray();

        void Place(int position, string token)
        {
            if (tokens.TryGetValue(position, out var known) && known != token)
                throw new InvalidConfigurationException("Token", token, $"Position {position} is both '{known}' and '{token}': the weights of one text at a time can be drawn.");
            tokens[position] = token;
        }
    }

    /// <summary>The colour scale: 0 to 1 in 50 steps, with ticks, and a grey swatch for what no query sees.</summary>
    static void ColourScale(StringBuilder svg)
    {
        const int Steps = 50;
        for (int i = 0; i < Steps; i++)
            svg.Append(Invariant($"<rect x=\"{Margin + i * ScaleWidth / Steps:F1}\" y=\"{ScaleTop}\" width=\"{ScaleWidth / Steps + 0.5:F1}\" height=\"{ScaleHeight}\" fill=\"{ColorOf((i + 0.5) / Steps)}\"/>"));
        svg.Append(Invariant($"<rect x=\"{Margin}\" y=\"{ScaleTop}\" width=\"{ScaleWidth}\" height=\"{ScaleHeight}\" fill=\"none\" stroke=\"#333\"/>\n"));
        foreach (double tick in new[] { 0, 0.25, 0.5, 0.75, 1 })
        {
            double x = Margin + tick * ScaleWidth;
            svg.Append(Invariant($"<line x1=\"{x:F1}\" y1=\"{ScaleTop + ScaleHeight}\" x2=\"{x:F1}\" y2=\"{ScaleTop + ScaleHeight + 4}\" stroke=\"#333\"/>"));
            svg.Append(Text(tick.ToString("0.##", CultureInfo.InvariantCulture), x, ScaleTop + ScaleHeight + 16, "middle", NoteSize));
        }
        svg.Append(Text("weight", Margin + ScaleWidth + 8, ScaleTop + ScaleHeight - 2, "start", NoteSize, "fill=\"#555\""));
        double swatch = Margin + ScaleWidth + 80;
        svg.Append(Invariant($"<rect x=\"{swatch:F1}\" y=\"{ScaleTop}\" width=\"{ScaleHeight}\" height=\"{ScaleHeight}\" fill=\"{Unseen}\" stroke=\"#333\"/>\n"));
        svg.Append(Text("not seen (a later key)", swatch + ScaleHeight + 6, ScaleTop + ScaleHeight - 2, "start", NoteSize));
    }

    /// <summary>A token as an axis shows it: white space made visible (<see cref="Tokenizer.Printable"/>), at most <see cref="LongestLabel"/> characters.</summary>
    static string Label(string token)
    {
        string shown = Tokenizer.Printable(token);
        return shown.Length <= LongestLabel ? shown : shown[..(LongestLabel - 1)] + "\u2026";
    }

    static string Text(string text, double x, double y, string anchor, double size, string attributes = "") =>
        Invariant($"<text x=\"{x:F1}\" y=\"{y:F1}\" text-anchor=\"{anchor}\" font-size=\"{size}\"{(attributes.Length > 0 ? " " + attributes : "")}>{WebUtility.HtmlEncode(text)}</text>\n");

    /// <summary>The width text is placed by, as the loss chart places it.</summary>
    static double TextWidth(string text, double size) => text.Length * LossChart.CharacterWidth * size;

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
