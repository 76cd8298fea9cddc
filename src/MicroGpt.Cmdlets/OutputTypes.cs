namespace MicroGpt;

/// <summary>What Get-Tokens writes for one text: the model's view of it, BOS included at both ends.</summary>
public sealed record TokenizedText(string Text, string[] Tokens, int[] Ids)
{
    public int Count => Ids.Length;
}

/// <summary>What Measure-Model writes: the held-out loss, as training measures it, and its perplexity.</summary>
public sealed record Measurement(double Loss, double Perplexity, int Sentences, long Tokens);
