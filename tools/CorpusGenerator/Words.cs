// The kinds of words the grammar combines, each carrying just enough meaning to keep sentences
// sensible: which adjectives fit a noun, which places fit a verb, what an animal can do and eat.
namespace MicroGpt.CorpusGenerator;

/// <summary>Something whose surface forms can appear in a sentence, so that a word can be searched for.</summary>
public interface ILexeme
{
    IEnumerable<string> Forms { get; }
}

/// <summary>How a noun takes determiners.</summary>
public enum NounUse
{
    /// <summary>Countable: "a ball", "the balls", "two balls".</summary>
    Common,
    /// <summary>Uncountable: "milk", "the milk", "some milk", never "a milk".</summary>
    Mass,
    /// <summary>One of a kind: always "the sun".</summary>
    Unique,
    /// <summary>A family word that works as a name: "mom", "my mom".</summary>
    Family,
}

/// <summary>A noun, its plural (null when it has none in the corpus) and the adjectives that fit it.</summary>
public sealed record Noun(string Singular, string? Plural, NounUse Use, IReadOnlyList<string> Adjectives) : ILexeme
{
    public bool Countable => Use == NounUse.Common && Plural is not null;

    public IEnumerable<string> Forms => Plural is null ? [Singular] : [Singular, Plural];
}

/// <summary>A verb's four forms: "run runs ran running". Ing is null for verbs never used in the progressive.</summary>
public sealed record Verb(string Base, string Third, string Past, string? Ing) : ILexeme
{
    public IEnumerable<string> Forms => Ing is null ? [Base, Third, Past] : [Base, Third, Past, Ing];

    public static Verb Parse(string forms)
    {
        string[] f = forms.Split(' ');
        return new Verb(f[0], f[1], f[2], f.Length > 3 ? f[3] : null);
    }
}

/// <summary>Where a place sits in the world, so that verbs can pick the places that fit them.</summary>
[Flags]
public enum PlaceKind
{
    None = 0,
    Outdoor = 1,
    Water = 2,
    Indoor = 4,
    Snug = 8,   // a bed, a box, a nest: somewhere to sleep or hide
    Sky = 16,
    Landmark = 32,   // something big enough to fly over
    Climbable = 64,
    Soil = 128,      // somewhere to dig
}

/// <summary>
/// A place and every preposition it takes ("in the barn", "into the pond", "up the hill", "to the park").
/// A bare place may drop its article ("at school", "in bed"); home drops even the "to" ("goes home").
/// </summary>
public sealed record Place(string Noun, PlaceKind Kind, IReadOnlyList<string> Preps, bool Bare, IReadOnlyList<string> Adjectives) : ILexeme
{
    public IEnumerable<string> Forms => [Noun];
}

/// <summary>Kinds of place and the prepositions a verb takes with them: flying is "in" the sky but "over" a barn.</summary>
public sealed record Setting(PlaceKind Kinds, IReadOnlyList<string> Preps);

/// <summary>
/// An intransitive verb and where it happens: a place fits when its kind is in a setting and the
/// place and the setting share a preposition ("swims in the pond", "climbs up the tree").
/// </summary>
public sealed record Activity(Verb Verb, IReadOnlyList<Setting> Settings) : ILexeme
{
    public IEnumerable<string> Forms => Verb.Forms;

    /// <summary>A movement that needs its destination: "the dog goes" says too little, "the dog goes home" is whole.</summary>
    public bool Goes => Settings.All(s => s.Preps is ["to"]);
}

/// <summary>A transitive verb, the nouns that make sensible objects for it, and its particle if it has one ("looks at").</summary>
public sealed record Deed(Verb Verb, IReadOnlyList<Noun> Objects, string? Particle = null) : ILexeme
{
    public IEnumerable<string> Forms => Particle is null ? Verb.Forms : [.. Verb.Forms, Particle];
}

/// <summary>An animal: what it does, the deeds it does to things (eat, chase...), where it is found and what it says.</summary>
public sealed record Animal(Noun Noun, IReadOnlyList<Activity> Does, IReadOnlyList<Deed> Deeds, IReadOnlyList<Place> Homes, string? Sound) : ILexeme
{
    public IEnumerable<string> Forms => Sound is null ? Noun.Forms : [.. Noun.Forms, Sound];
}
