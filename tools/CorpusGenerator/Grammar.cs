// The toolkit that statements and questions share: seeded choices, subjects, noun phrases whose
// determiners fit the noun, verb forms that agree with their subject, and places and times that
// fit the verb. Every choice goes through one seeded generator, so a seed gives the same text on
// every machine. When Focus is set, word lists prefer the entries that contain it, which is how a
// rare word is given the uses it needs.
namespace MicroGpt.CorpusGenerator;

/// <summary>How a subject makes its verb agree: "i am", "you are", "the dog is", "the dogs are".</summary>
public enum Agreement { First, Second, Third, Plural }

public enum Tense { Present, Past, Progressive }

/// <summary>
/// What a noun phrase's determiner must say: Any, or a Subject (no bare "milk is cold"), something
/// Named ("this is my dog"), something New ("there is a frog") or something Known ("where is the ball").
/// </summary>
public enum Reference { Any, Subject, Named, New, Known }

/// <summary>
/// A subject: its words, how its verb agrees, the noun whose adjectives describe it ("boy" for
/// "she" or "sam"), and the animal it is (null for people, whose verbs and places are the human ones).
/// </summary>
public sealed record Actor(IReadOnlyList<string> Words, Agreement Agreement, Noun Noun, Animal? Animal)
{
    public IReadOnlyList<Activity> Activities => Animal?.Does ?? Lexicon.HumanActivities;

    public IReadOnlyList<Deed> Deeds => Animal?.Deeds ?? Lexicon.HumanDeeds;

    public IReadOnlyList<Place> Places => Animal?.Homes ?? Lexicon.HumanPlaces;
}

public sealed class Grammar(int seed)
{
    /// <summary>Where things stay (as opposed to where they go): "in the box", "under the tree".</summary>
    static readonly IReadOnlyList<string> StayingPreps = ["in", "at", "on", "under", "by", "near"];

    const PlaceKind Anywhere = PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Water | PlaceKind.Snug | PlaceKind.Sky;

    const PlaceKind OnLand = PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Snug;

    static readonly IReadOnlyList<string> ObjectPronouns = ["me", "you", "him", "her", "us", "them"];

    static readonly Noun Person = Lexicon.People[0];

    readonly GeneratorRandom rng = new(seed);

    /// <summary>A word that lists should prefer wherever it fits; null for ordinary text.</summary>
    public string? Focus { get; set; }

    public bool Chance(double probability) => rng.NextDouble() < probability;

    /// <summary>A uniform index in [0, count).</summary>
    public int Index(int count) => rng.NextInt(count);

    public T Pick<T>(IReadOnlyList<T> items) where T : ILexeme => PickBy(items, item => item.Forms);

    /// <summary>A word or a phrase ("at night") from a list.</summary>
    public string Pick(IReadOnlyList<string> phrases) => PickBy(phrases, phrase => phrase.Split(' '));

    /// <summary>One of several ways, by weight (the weights need not sum to 1).</summary>
    public T Choose<T>(params (double Weight, T Value)[] options)
    {
        double r = rng.NextDouble() * options.Sum(o => o.Weight);
        foreach ((double weight, T value) in options)
        {
            r -= weight;
            if (r < 0) return value;
        }
        return options[^1].Value;
    }

    // Entry i weighs 1 / (i + 3): lists are written common-first, and this gentle Zipf slope
    // makes "dog" commoner than "crab" without starving the tail.
    T PickBy<T>(IReadOnlyList<T> items, Func<T, IEnumerable<string>> forms)
    {
        if (items.Count == 0) throw new ArgumentException("There is nothing to pick from.", nameof(items));
        if (Focus is { } focus)
        {
            List<T> hits = [.. items.Where(item => forms(item).Contains(focus))];
            if (hits.Count > 0) return hits[rng.NextInt(hits.Count)];
        }
        double total = 0;
        for (int i = 0; i < items.Count; i++) total += 1.0 / (i + 3);
        double r = rng.NextDouble() * total;
        for (int i = 0; i < items.Count - 1; i++)
        {
            r -= 1.0 / (i + 3);
            if (r < 0) return items[i];
        }
        return items[^1];
    }

    // ---- subjects ----

    public Actor Subject() => Choose<Func<Actor>>(
        (0.42, () => AnimalSubject()), (0.14, PersonSubject), (0.16, NameSubject), (0.28, PronounSubject))();

    /// <summary>An animal, now and then as "it" or "they" when it is the subject.</summary>
    public Actor AnimalSubject(Reference reference = Reference.Subject)
    {
        Animal animal = Pick(Lexicon.Animals);
        bool plural = Chance(0.35);
        Agreement agreement = plural ? Agreement.Plural : Agreement.Third;
        if (reference == Reference.Subject && Chance(0.08)) return new([plural ? "they" : "it"], agreement, animal.Noun, animal);
        return new(NounPhrase(animal.Noun, plural, reference), agreement, animal.Noun, animal);
    }

    /// <summary>A food or a thing, in the place of a subject: "the cake", "my red balls".</summary>
    public Actor ThingSubject(IReadOnlyList<Noun> nouns, Reference reference = Reference.Subject)
    {
        Noun noun = Pick(nouns);
        bool plural = noun.Countable && Chance(0.3);
        return new(NounPhrase(noun, plural, reference), plural ? Agreement.Plural : Agreement.Third, noun, null);
    }

    public Actor PersonSubject()
    {
        Noun noun = Pick(Lexicon.People);
        bool plural = noun.Countable && Chance(0.3);
        return new(NounPhrase(noun, plural, Reference.Subject), plural ? Agreement.Plural : Agreement.Third, noun, null);
    }

    public Actor NameSubject() => new([Pick(Lexicon.Names)], Agreement.Third, Person, null);

    public Actor PronounSubject() => Choose(
        (0.25, new Actor(["i"], Agreement.First, Person, null)),
        (0.10, new Actor(["you"], Agreement.Second, Person, null)),
        (0.15, new Actor(["he"], Agreement.Third, Person, null)),
        (0.15, new Actor(["she"], Agreement.Third, Person, null)),
        (0.20, new Actor(["we"], Agreement.Plural, Person, null)),
        (0.15, new Actor(["they"], Agreement.Plural, Person, null)));

    /// <summary>Someone to be with ("with mom", "with his dog"), or, without animals, someone to give to.</summary>
    public List<string> Companion(bool animals = true) => Choose<Func<List<string>>>(
        (0.4, () => [Pick(Lexicon.Names)]),
        (0.35, () => NounPhrase(Pick(Lexicon.People), plural: false)),
        (animals ? 0.25 : 0, () => NounPhrase(Pick(Lexicon.Animals).Noun, plural: false)))();

    // ---- noun phrases ----

    /// <summary>A noun with a determiner that fits it and sometimes an adjective or two: "the dog", "three red ducks", "some milk".</summary>
    public List<string> NounPhrase(Noun noun, bool plural, Reference reference = Reference.Any, double adjectiveChance = 0.22)
    {
        if (noun.Use == NounUse.Family && Chance(0.5)) return [noun.Singular];
        List<string> words = [.. Adjectives(noun, adjectiveChance), plural ? noun.Plural! : noun.Singular];
        string? determiner = noun.Use switch
        {
            NounUse.Unique => "the",
            NounUse.Family => Pick(Lexicon.Possessives),
            _ => Determiner(noun.Use == NounUse.Mass ? Number.Mass : plural ? Number.Plural : Number.Singular, reference),
        };
        if (determiner is not null && Lexicon.Possessives.Contains(determiner) && Lexicon.Unowned.Contains(noun.Singular)) determiner = "the";
        if (determiner is not null) words.Insert(0, determiner);
        return WithArticle(words);
    }

    enum Number { Singular, Plural, Mass }

    string? Determiner(Number number, Reference reference) => Choose<Func<string?>>((number, reference) switch
    {
        (_, Reference.Known) => [(0.65, () => "the"), (0.35, Possessive)],
        (Number.Mass, Reference.Subject) => [(0.8, () => "the"), (0.2, Possessive)],
        (Number.Mass, Reference.Named) => [(0.5, Possessive), (0.3, () => "the"), (0.2, () => null)],
        (Number.Mass, Reference.New) => [(0.5, () => "some"), (0.5, () => null)],
        (Number.Mass, _) => [(0.35, () => null), (0.35, () => "the"), (0.2, () => "some"), (0.1, Possessive)],
        (Number.Plural, Reference.Named) => [(0.4, Possessive), (0.3, () => "the"), (0.3, () => null)],
        (Number.Plural, Reference.New) => [(0.5, Count), (0.3, () => "some"), (0.2, () => null)],
        (Number.Plural, _) => [(0.27, () => "the"), (0.25, Count), (0.18, () => null), (0.1, () => "some"), (0.13, Possessive),
            (0.07, () => Chance(0.5) ? "these" : "those")],
        (Number.Singular, Reference.Named) => [(0.5, () => "a"), (0.2, () => "the"), (0.3, Possessive)],
        (Number.Singular, Reference.New) => [(0.88, () => "a"), (0.12, () => "one")],
        _ => [(0.38, () => "a"), (0.4, () => "the"), (0.13, Possessive),
            (0.06, () => Chance(0.5) ? "this" : "that"), (0.03, () => "one")],
    })();

    string? Possessive() => Pick(Lexicon.Possessives);

    string? Count() => Pick(Lexicon.Numbers);

    /// <summary>"a" becomes "an" before a vowel: "an apple", "an old dog".</summary>
    public static List<string> WithArticle(List<string> words)
    {
        for (int i = 0; i + 1 < words.Count; i++)
        {
            if (words[i] == "a" && "aeiou".Contains(words[i + 1][0])) words[i] = "an";
        }
        return words;
    }

    /// <summary>No adjective, one, or a quality and a color ("big red"): a pair never contradicts itself.</summary>
    List<string> Adjectives(Noun noun, double chance)
    {
        if (noun.Adjectives.Count == 0 || !Chance(chance)) return [];
        string first = Pick(noun.Adjectives);
        List<string> colors = [.. noun.Adjectives.Where(Lexicon.Colors.Contains)];
        if (!Lexicon.Colors.Contains(first) && colors.Count > 0 && Chance(0.2)) return [first, Pick(colors)];
        return [first];
    }

    /// <summary>An adjective to say about a noun that does not contradict the words already said ("the big dog is little").</summary>
    public string? PredicateAdjective(Noun noun, IEnumerable<string> said)
    {
        List<string> fits = [.. noun.Adjectives.Where(a => !said.Any(w => SameScale(a, w)))];
        return fits.Count == 0 ? null : Pick(fits);
    }

    static bool SameScale(string a, string b) => a == b || Lexicon.Scales.Any(s => s.Contains(a) && s.Contains(b));

    /// <summary>An object for a verb: a noun phrase, a name or pronoun for people, a cup or bag of food now and then.</summary>
    public List<string> ObjectPhrase(Noun noun)
    {
        if (Lexicon.People.Contains(noun))
        {
            double r = rng.NextDouble();
            if (r < 0.25) return [Pick(Lexicon.Names)];
            if (r < 0.45) return [Pick(ObjectPronouns)];
        }
        if (Lexicon.AnimalNouns.Contains(noun) && Chance(0.06)) return [Chance(0.5) ? "it" : "them"];
        if (noun.Use == NounUse.Mass && Lexicon.Containers.TryGetValue(noun.Singular, out var containers) && Chance(0.15))
            return ["a", Pick(containers), "of", noun.Singular];
        bool plural = noun.Countable && Chance(0.3);
        if (plural && Lexicon.Foods.Contains(noun) && Chance(0.1))
            return ["a", Pick(Lexicon.Holders), "of", noun.Plural!];
        return NounPhrase(noun, plural);
    }

    // ---- verbs ----

    public static string Present(Verb verb, Agreement agreement) => agreement == Agreement.Third ? verb.Third : verb.Base;

    public static string Be(Agreement agreement, bool past) => (agreement, past) switch
    {
        (Agreement.First or Agreement.Third, true) => "was",
        (_, true) => "were",
        (Agreement.First, false) => "am",
        (Agreement.Third, false) => "is",
        _ => "are",
    };

    public static string Do(Agreement agreement, bool past) => past ? "did" : agreement == Agreement.Third ? "does" : "do";

    /// <summary>A tense the verb has a form for: mostly present, some past, a little progressive.</summary>
    public Tense TenseFor(Verb verb)
    {
        Tense tense = Choose((0.58, Tense.Present), (0.28, Tense.Past), (0.14, Tense.Progressive));
        return tense == Tense.Progressive && verb.Ing is null ? Tense.Present : tense;
    }

    /// <summary>The verb's words for a subject and tense: "runs", "ran", "is running".</summary>
    public static List<string> Inflect(Verb verb, Agreement agreement, Tense tense) => tense switch
    {
        Tense.Present => [Present(verb, agreement)],
        Tense.Past => [verb.Past],
        _ => [Be(agreement, past: false), verb.Ing!],
    };

    // ---- places and times ----

    /// <summary>Where an actor does an activity ("swims in the pond"); null when no place the actor goes fits it.</summary>
    public List<string>? PlaceFor(Activity activity, Actor actor) => PlaceFor(activity.Settings, actor);

    /// <summary>
    /// The words after the verb that say where: always for a verb that <see cref="Activity.Goes"/>
    /// (null when no place fits, so the sentence is dropped), otherwise with the given chance (or none).
    /// </summary>
    public List<string>? Whereabouts(Activity activity, Actor actor, double chance)
    {
        if (!activity.Goes && !Chance(chance)) return [];
        return PlaceFor(activity, actor) ?? (activity.Goes ? null : []);
    }

    /// <summary>Where an actor is, or does something to an object ("eats a bone in the yard").</summary>
    public List<string>? StayingPlace(Actor actor, bool onLand = false) =>
        PlaceFor([new Setting(onLand ? OnLand : Anywhere, StayingPreps)], actor);

    List<string>? PlaceFor(IReadOnlyList<Setting> settings, Actor actor)
    {
        List<Place> fits = [.. actor.Places.Where(p => Preps(p, settings).Any())];
        if (fits.Count == 0) return null;
        Place place = Pick(fits);
        return Locate(Pick([.. Preps(place, settings)]), place, human: actor.Animal is null);
    }

    static IEnumerable<string> Preps(Place place, IReadOnlyList<Setting> settings) =>
        place.Preps.Where(prep => settings.Any(s => (s.Kinds & place.Kind) != 0 && s.Preps.Contains(prep)));

    /// <summary>A preposition and a place: "in the barn", "at school", "in my room", "home".</summary>
    public List<string> Locate(string prep, Place place, bool human)
    {
        if (place.Noun == "home") return prep == "to" ? ["home"] : [prep, "home"];
        if (place.Bare && human && prep is ("at" or "in" or "to") && Chance(0.85)) return [prep, place.Noun];
        List<string> words = [prep, Lexicon.OwnablePlaces.Contains(place.Noun) && Chance(0.12) ? Pick(Lexicon.Possessives) : "the"];
        if (place.Adjectives.Count > 0 && Chance(0.1)) words.Add(Pick(place.Adjectives));
        words.Add(place.Noun);
        return words;
    }

    public IEnumerable<string> TimeFor(Tense tense) => Pick(tense switch
    {
        Tense.Present => Lexicon.PresentTimes,
        Tense.Past => Lexicon.PastTimes,
        _ => Lexicon.ProgressiveTimes,
    }).Split(' ');
}
