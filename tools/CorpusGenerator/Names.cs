// The character-level example's corpus (module/data/names.txt): 4,000 distinct made-up first
// names, 3 to 10 letters a-z, built from syllables (an onset, a vowel, a coda, a name ending)
// and kept only when they read like names: no pile-ups of vowels or consonants, no odd doubles.
namespace MicroGpt.CorpusGenerator;

public static class Names
{
    public const int Count = 4_000;
    public const int MinLength = 3;
    public const int MaxLength = 10;

    const int Seed = 20_260_108;

    // Repeated entries are the common ones: "a" starts more names than "u".
    static readonly string[] Onsets = Split("b c d f g h j k l m n p r s t v w z b d j k l m r s t br cl dr fl fr gr st sh ch th tr");
    static readonly string[] Vowels = Split("a e i o u a e i o a e i a");
    static readonly string[] Digraphs = Split("ai ea ee ie oa au");
    static readonly string[] Codas = Split("n r l m s d t n r l nd rl rn ld st x");
    static readonly string[] Middles = Split("l n r m s t d v b k l n r ll nn tt ss");
    static readonly string[] SmallCodas = Split("n r l s");
    static readonly string[] Endings = Split(
        "a ie y o i e an en in on el er a ie y a ette ella ina ia is us ley ly ton son lyn ra na la ric ard wen ah ey ian iel");

    static readonly string[] Doubles = Split("ll nn rr ss tt mm dd ee");
    static readonly string[] VowelPairs = Split("ai ea ee ie oa au ia io eo ey ay oy");
    static readonly string[] Rude = Split(
        "fuck shit cunt fag nigg slut whore rape porn cock dick piss twat wank tit anus nazi "
        + "arse ass butt poo sex cum crap fart damn hell kill dead");

    public static IReadOnlyList<string> Generate()
    {
        GeneratorRandom rng = new(Seed);
        HashSet<string> seen = [];
        List<string> names = [];
        while (names.Count < Count)
        {
            string name = Compose(rng);
            if (Plausible(name) && seen.Add(name)) names.Add(name);
        }

        CorpusRules.RequireWellFormed(names, minWords: 1, maxWords: 1);
        CorpusRules.Require(names.All(n => n.Length is >= MinLength and <= MaxLength), "A name is too short or too long.");
        return names;
    }

    // One or two syllables and an ending: "mar" + "a", "ca" + "lin" + "a", "ben" + "ton".
    static string Compose(GeneratorRandom rng)
    {
        string name = (Chance(rng, 0.85) ? Pick(rng, Onsets) : "") + Pick(rng, Chance(rng, 0.15) ? Digraphs : Vowels);
        if (Chance(rng, 0.5)) name += Pick(rng, Codas);
        else if (Chance(rng, 0.4))
        {
            name += Pick(rng, Middles) + Pick(rng, Vowels);
            if (Chance(rng, 0.25)) name += Pick(rng, SmallCodas);
        }
        return name + Pick(rng, Endings);
    }

    static bool Plausible(string name)
    {
        if (name.Length is < MinLength or > MaxLength) return false;
        if (Rude.Any(name.Contains) || Lexicon.Words.Contains(name)) return false;   // no rude words, and no "dog" or "ten"
        if (name[^1] is 'h' && !name.EndsWith("ah") && !name.EndsWith("th") && !name.EndsWith("sh")) return false;
        int vowels = 0, vowelPairs = 0;
        string consonants = "";
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (i > 0 && c == name[i - 1] && !Doubles.Contains(name.Substring(i - 1, 2))) return false;
            bool vowel = "aeiou".Contains(c) || (c == 'y' && i == name.Length - 1);
            vowels = vowel ? vowels + 1 : 0;
            consonants = vowel ? "" : consonants + c;
            // One vowel pair from the list reads ("dean"); others, or two pairs, do not ("tui", "maidoa").
            if (vowels == 2 && (!VowelPairs.Contains(name.Substring(i - 1, 2)) || ++vowelPairs > 1)) return false;
            if (vowels > 2) return false;
            if (consonants.Length > 2 && !consonants.Contains('h')) return false;   // "ashton" reads, "arnld" does not
        }
        return true;
    }

    static bool Chance(GeneratorRandom rng, double probability) => rng.NextDouble() < probability;

    static string Pick(GeneratorRandom rng, string[] items) => items[rng.NextInt(items.Length)];

    static string[] Split(string words) => words.Split(' ');
}
