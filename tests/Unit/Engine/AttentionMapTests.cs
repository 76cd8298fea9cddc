using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>Attention maps: one cell per weight in its colour, tokens on both axes, everything inside the picture up to 64 tokens, bad weights refused.</summary>
public class AttentionMapTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>The weights of a model over <paramref name="words"/> words (BOS and w000...), from the forward pass.</summary>
    static List<AttentionWeight> WeightsOf(int words, int layers = 2, int heads = 4, int seed = 1)
    {
        var config = new ModelConfig(70, 16, heads, layers, Math.Max(words + 1, 2));
        var model = TestData.RandomModel(config, seed);
        return new Inspector(model).Attention(string.Join(" ", Enumerable.Range(0, words).Select(i => $"w{i % 69:D3}")));
    }

    static double Number(XElement e, string name) => double.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);

    [Fact]
    public void EachWeightIsOneCellInItsColourInTheMapOfItsLayerAndHead()
    {
        var weights = WeightsOf(5);
        var svg = XDocument.Parse(AttentionMap.Render(weights, new AttentionMapOptions()));
        var cells = svg.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "cell").ToList();
        Assert.Equal(weights.Count, cells.Count); // 2 layers x 4 heads x 6 x 7 / 2
        Assert.Equal(weights.Select(w => AttentionMap.ColorOf(w.Weight)), cells.Select(c => c.Attribute("fill")!.Value));
        var headings = svg.Descendants(Svg + "text").Select(t => t.Value).Where(t => t.StartsWith("layer ")).ToList();
        Assert.Equal(8, headings.Count);
        Assert.Contains("layer 1, head 3", headings);
        // each cell's tooltip names it
        Assert.Contains("layer 1, head 2: w001 (2) attends to &lt;BOS&gt; (0)", AttentionMap.Render(weights, new AttentionMapOptions()));
        Assert.Equal("Attention over: <BOS> w000 w001 w002 w003 w004", svg.Descendants(Svg + "text").First().Value);
        Assert.Equal("Five words", XDocument.Parse(AttentionMap.Render(weights, new AttentionMapOptions { Title = "Five words" })).Descendants(Svg + "text").First().Value);
    }

    [Fact]
    public void TheTokensStandOnBothAxesOfEveryMap()
    {
        var weights = WeightsOf(5);
        var svg = XDocument.Parse(AttentionMap.Render(weights, new AttentionMapOptions()));
        var queries = svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "query").Select(t => t.Value).ToList();
        var keys = svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "key").Select(t => t.Value).ToList();
        string[] tokens = ["<BOS>", "w000", "w001", "w002", "w003", "w004"];
        Assert.Equal(Enumerable.Repeat(tokens, 8).SelectMany(t => t), queries);
        Assert.Equal(queries, keys);
    }

    [Fact]
    public void WhiteSpaceTokensShowAsVisibleSignsOnTheAxesInTheTitleAndInTheTooltips()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Character, [new Sentence("a b\tc\r\n", 1)], "the text");
        var weights = new Inspector(Model.Create(new ModelConfig(tokenizer.VocabSize, 16, 4, 1, 8), tokenizer, 1), stream: true).Attention("a b\n");
        string rendered = AttentionMap.Render(weights, new AttentionMapOptions());
        var svg = XDocument.Parse(rendered);
        var queries = svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "query").Select(t => t.Value).Take(4).ToList();
        Assert.Equal(["a", "\u2423", "b", "\u21B5"], queries);
        Assert.Equal("Attention over: a \u2423 b \u21B5", svg.Descendants(Svg + "text").First().Value);
        Assert.Contains("\u21B5 (3) attends to \u2423 (1)", rendered);
        Assert.Equal(["a", " ", "b", "\n"], weights.Where(w => w.Layer == 0 && w.Head == 0 && w.KeyPosition == 0).Select(w => w.QueryToken)); // the objects keep the real characters
        Assert.Equal("\u2423the\u21E5\u240D\u21B5", Tokenizer.Printable(" the\t\r\n"));
        Assert.Same("cat", Tokenizer.Printable("cat"));
    }

    [Fact]
    public void TheScaleRunsFromLightAtZeroToDarkAtOne()
    {
        Assert.Equal("#f7fbff", AttentionMap.ColorOf(0));
        Assert.Equal("#08306b", AttentionMap.ColorOf(1));
        static int Lightness(string color) => Enumerable.Range(0, 3).Sum(i => Convert.ToInt32(color.Substring(1 + 2 * i, 2), 16));
        var lightness = Enumerable.Range(0, 101).Select(i => Lightness(AttentionMap.ColorOf(i / 100.0))).ToList();
        Assert.True(lightness.Zip(lightness.Skip(1)).All(p => p.Second <= p.First), "a higher weight is never lighter");
        Assert.True(lightness[0] - lightness[100] > 500);
    }

    /// <summary>64 tokens (a block of 64): labels of at least 10 pixels beside cells of 11, and every cell and label inside the picture, none over a map.</summary>
    [Fact]
    public void SixtyFourTokensStayReadableAndInsideThePicture()
    {
        var weights = WeightsOf(63, layers: 1, heads: 2);
        string text = AttentionMap.Render(weights, new AttentionMapOptions());
        var svg = XDocument.Parse(text);
        double width = Number(svg.Root!, "width"), height = Number(svg.Root!, "height");
        Assert.Equal(11, AttentionMap.CellSize(64));
        Assert.True(AttentionMap.LabelSize(AttentionMap.CellSize(64)) >= 10);
        var cells = svg.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "cell").ToList();
        Assert.Equal(2 * 64 * 65 / 2, cells.Count);
        Assert.All(cells, c => Assert.True(Number(c, "x") >= 0 && Number(c, "x") + Number(c, "width") <= width && Number(c, "y") >= 0 && Number(c, "y") + Number(c, "height") <= height));
        double mapLeft = cells.Min(c => Number(c, "x")), mapTop = cells.Min(c => Number(c, "y"));
        double mapBottom = cells.Where(c => Number(c, "x") < width / 2).Max(c => Number(c, "y") + Number(c, "height"));
        // query labels end left of the first map; key labels start below it and end inside the picture
        foreach (var label in svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "query"))
            Assert.True(Number(label, "x") <= mapLeft || Number(label, "x") > mapLeft + 64 * 11, "a query label over a map");
        double labelWidth = 4 * LossChart.CharacterWidth * AttentionMap.LabelSize(11); // "w062"
        foreach (var label in svg.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "key"))
        {
            var m = Regex.Match(label.Attribute("transform")!.Value, @"translate\(([\d.]+) ([\d.]+)\)");
            double y = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.True(y >= mapBottom && y + labelWidth <= height, $"a key label at {y} leaves the picture of height {height}");
        }
        Assert.True(mapTop > 100); // below the title, the note and the scale
        Assert.DoesNotContain("<script", text);
        Assert.DoesNotContain("href", text);
    }

    [Fact]
    public void WeightsThatAreNotOneTextsMapsAreRefused()
    {
        var good = WeightsOf(2, layers: 1, heads: 1);
        void Refused(string expected, List<AttentionWeight> weights) =>
            Assert.Contains(expected, Assert.Throws<InvalidConfigurationException>(() => AttentionMap.Render(weights, new AttentionMapOptions())).Message);
        Refused("1.5", [.. good, good[0] with { Head = 1, Weight = 1.5 }]);
        Refused("NaN", [.. good, good[0] with { Head = 1, Weight = double.NaN }]);
        Refused("query 1 and key 2", [.. good, good[0] with { Head = 1, QueryPosition = 1, KeyPosition = 2 }]);
        Refused("query 5000", [good[0] with { QueryPosition = 5000 }]);
        Refused("two weights", [.. good, good[1]]);
        Refused("both 'w000' and 'cat'", [.. good, good[2] with { Head = 1, KeyToken = "cat" }]);
        Refused("at most 256", Enumerable.Range(0, 300).Select(h => good[0] with { Head = h }).ToList());
        Assert.Throws<ArgumentException>(() => AttentionMap.Render([], new AttentionMapOptions()));
    }
}
