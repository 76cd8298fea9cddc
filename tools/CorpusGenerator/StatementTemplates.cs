// The kinds of statement the sentence corpus is made of, with how often each is said. Each
// template builds one sentence from the grammar or returns null when its choices do not fit
// together (a fish has nowhere to sleep); the caller then simply asks again.
namespace MicroGpt.CorpusGenerator;

public sealed class StatementTemplates
{
    static readonly IReadOnlyList<Verb> LikingVerbs = [.. Lexicon.Deeds.Select(d => d.Verb).Where(v => v.Base is "like" or "want" or "love")];

    // What is made or fetched for someone: "mom makes a cake for me".
    static readonly IReadOnlyList<Deed> ForDeeds =
        [.. Lexicon.Deeds.Where(d => d.Verb.Base is "make" or "bake" or "get" or "pick" or "draw" or "find")];

    static readonly IReadOnlyList<Deed> CommandDeeds = [.. Lexicon.HumanDeeds.Where(d => Lexicon.Commands.Contains(d.Verb.Base))];

    readonly Grammar g;
    readonly (double Weight, Func<List<string>?> Build)[] templates;

    public StatementTemplates(Grammar grammar)
    {
        g = grammar;
        templates =
        [
            (20, Doing),          // the dog runs in the park
            (22, DoingTo),        // the cat eats a muffin
            (12, Describing),     // the shy bird is old
            (6, Locating),        // the cat is in the box
            (4, ThereIs),         // there are three ducks on the pond
            (5, Able),            // the bird can fly
            (4, Liking),          // the dog likes to run
            (3, DoingTwo),        // the kids sing and dance
            (3, Together),        // sam and the dog run to the park
            (5, Denying),         // the fish can not walk
            (2.5, Saying),        // the cow says moo
            (3, Giving),          // mom gives the dog a bone
            (1.5, Weather),       // it is a sunny day
            (3, Telling),         // look at the big dog
            (3, Pointing),        // this is my red ball
        ];
    }

    /// <summary>A statement, or null when the choices made did not fit together.</summary>
    public List<string>? Next() => g.Choose(templates)();

    List<string>? Doing()
    {
        Actor who = g.Subject();
        Activity activity = g.Pick(who.Activities);
        Tense tense = g.TenseFor(activity.Verb);
        List<string> words = [.. who.Words, .. Grammar.Inflect(activity.Verb, who.Agreement, tense)];
        if (g.Whereabouts(activity, who, 0.6) is not { } place) return null;
        words.AddRange(place);
        if (who.Animal is null && g.Chance(0.06)) words.AddRange(["with", .. g.Companion()]);
        if (g.Chance(0.22)) words.AddRange(g.TimeFor(tense));
        return words;
    }

    List<string>? DoingTo()
    {
        Actor who = g.Subject();
        Deed deed = g.Pick(who.Deeds);
        Noun thing = g.Pick(deed.Objects);
        if (thing == who.Noun) return null;   // "the dog chases the dog"
        Tense tense = g.TenseFor(deed.Verb);
        List<string> words = [.. who.Words, .. Grammar.Inflect(deed.Verb, who.Agreement, tense)];
        if (deed.Particle is not null) words.Add(deed.Particle);
        words.AddRange(g.ObjectPhrase(thing));
        if (Lexicon.States.Contains(deed.Verb.Base)) return words;
        if (g.Chance(0.22) && g.StayingPlace(who, onLand: true) is { } place) words.AddRange(place);
        else if (g.Chance(0.18)) words.AddRange(g.TimeFor(tense));
        return words;
    }

    List<string>? Describing()
    {
        Actor who = g.Choose<Func<Actor>>(
            (0.55, () => g.Subject()), (0.2, () => g.ThingSubject(Lexicon.Foods)), (0.25, () => g.ThingSubject(Lexicon.Things)))();
        string? adjective = g.PredicateAdjective(who.Noun, who.Words);
        if (adjective is null) return null;
        List<string> words = [.. who.Words, Grammar.Be(who.Agreement, past: g.Chance(0.2))];
        if (!Lexicon.Colors.Contains(adjective) && g.Chance(0.14)) words.Add(g.Chance(0.7) ? "very" : "too");
        words.Add(adjective);
        if (g.Chance(0.12) && g.PredicateAdjective(who.Noun, [.. who.Words, adjective]) is { } second) words.AddRange(["and", second]);
        return words;
    }

    List<string>? Locating()
    {
        // A thing stands where a person might: "the ball is under the bed".
        Actor who = g.Choose<Func<Actor>>((0.7, () => g.Subject()), (0.3, () => g.ThingSubject(Lexicon.Portables)))();
        List<string> words = [.. who.Words, Grammar.Be(who.Agreement, past: g.Chance(0.25))];
        if (g.Chance(0.1)) return [.. words, g.Chance(0.5) ? "here" : "there"];
        List<string>? place = g.StayingPlace(who, onLand: who.Animal is null);
        return place is null ? null : [.. words, .. place];
    }

    List<string>? ThereIs()
    {
        // "there is" brings in something new: "a frog", "three ducks", never "the frog".
        Actor what = g.Chance(0.65) ? g.AnimalSubject(Reference.New) : g.ThingSubject(Lexicon.Portables, Reference.New);
        List<string>? place = g.StayingPlace(what, onLand: what.Animal is null);
        return place is null ? null : ["there", Grammar.Be(what.Agreement, past: g.Chance(0.25)), .. what.Words, .. place];
    }

    List<string>? Able()
    {
        Actor who = g.Subject();
        Activity activity = g.Pick(who.Activities);
        List<string> words = [.. who.Words, g.Chance(0.7) ? "can" : "will", activity.Verb.Base];
        return g.Whereabouts(activity, who, 0.5) is { } place ? [.. words, .. place] : null;
    }

    List<string>? Liking()
    {
        Actor who = g.Subject();
        Verb feeling = g.Pick(LikingVerbs);
        Activity activity = g.Pick(who.Activities);
        bool past = g.Chance(0.25);
        List<string> words = [.. who.Words, past ? feeling.Past : Grammar.Present(feeling, who.Agreement), "to", activity.Verb.Base];
        return g.Whereabouts(activity, who, 0.5) is { } place ? [.. words, .. place] : null;
    }

    List<string>? DoingTwo()
    {
        Actor who = g.Subject();
        List<Activity> choices = [.. who.Activities.Where(a => !a.Goes)];
        if (choices.Count < 2) return null;
        Activity first = g.Pick(choices);
        Activity second = g.Pick(choices);
        if (first == second) return null;
        Tense tense = g.TenseFor(first.Verb);
        List<string> words = [.. who.Words, .. Grammar.Inflect(first.Verb, who.Agreement, tense), "and",
            .. Grammar.Inflect(second.Verb, who.Agreement, tense).TakeLast(1)];
        if (g.Chance(0.4) && g.PlaceFor(second, who) is { } place) words.AddRange(place);
        return words;
    }

    List<string>? Together()
    {
        Actor first = g.Choose<Func<Actor>>((0.5, g.NameSubject), (0.25, g.PersonSubject), (0.25, () => g.AnimalSubject()))();
        Actor second = g.Choose<Func<Actor>>(
            (0.3, g.NameSubject), (0.2, g.PersonSubject), (0.3, () => g.AnimalSubject()),
            (0.2, () => new Actor(["i"], Agreement.First, first.Noun, null)))();
        if (first.Words.Count + second.Words.Count > 4 || first.Words.SequenceEqual(second.Words)) return null;
        // Two single things joined by "and": "sam and the dog", never "ducks and dad" or "it and i".
        if (first.Agreement != Agreement.Third || second.Agreement == Agreement.Plural) return null;
        if (first.Words[0] == "it" || second.Words[0] == "it") return null;
        if (first.Animal is not null && second.Animal is not null && first.Animal != second.Animal) return null;
        Actor both = new([.. first.Words, "and", .. second.Words], Agreement.Plural, first.Noun, first.Animal ?? second.Animal);
        List<Activity> shared = [.. first.Activities.Intersect(second.Activities)];
        if (shared.Count == 0) return null;
        Activity activity = g.Pick(shared);
        Tense tense = g.TenseFor(activity.Verb);
        List<string> words = [.. both.Words, .. Grammar.Inflect(activity.Verb, Agreement.Plural, tense)];
        return g.Whereabouts(activity, both, 0.6) is { } place ? [.. words, .. place] : null;
    }

    List<string>? Denying()
    {
        Actor who = g.Subject();
        return g.Choose<Func<List<string>?>>(
            (0.35, () =>
            {
                // Mostly what the subject cannot do: "a fish can not walk", "i can not fly".
                Activity activity = g.Pick(g.Chance(0.6) ? Lexicon.Activities : who.Activities);
                return [.. who.Words, "can", "not", activity.Verb.Base];
            }),
            (0.35, () =>
            {
                Deed deed = g.Pick(who.Deeds);
                Noun thing = g.Pick(deed.Objects);
                if (thing == who.Noun) return null;
                List<string> words = [.. who.Words, Grammar.Do(who.Agreement, past: g.Chance(0.35)), "not", deed.Verb.Base];
                if (deed.Particle is not null) words.Add(deed.Particle);
                List<string> what = g.ObjectPhrase(thing);
                return what.Contains("some") ? null : [.. words, .. what];   // "does not find some corn" wants "any"
            }),
            (0.3, () =>
            {
                string? adjective = g.PredicateAdjective(who.Noun, who.Words);
                return adjective is null ? null : [.. who.Words, Grammar.Be(who.Agreement, past: g.Chance(0.25)), "not", adjective];
            }))();
    }

    List<string>? Saying()
    {
        Actor who = g.AnimalSubject();
        if (who.Animal!.Sound is not { } sound) return null;
        List<string> words = [.. who.Words, g.Chance(0.25) ? Lexicon.Say.Past : Grammar.Present(Lexicon.Say, who.Agreement), sound];
        if (g.Chance(0.15)) words.AddRange(g.TimeFor(Tense.Present));
        return words;
    }

    List<string>? Giving()
    {
        Actor who = g.Choose<Func<Actor>>((0.4, g.NameSubject), (0.3, g.PersonSubject), (0.3, g.PronounSubject))();
        Deed give = Lexicon.Deeds.First(d => d.Verb.Base == "give");
        Verb verb = give.Verb;
        Animal? pet = g.Chance(0.35) ? g.Pick(Lexicon.Animals) : null;
        List<string> recipient = pet is null ? g.Companion(animals: false) : g.NounPhrase(pet.Noun, plural: false, adjectiveChance: 0.1);
        // An animal is given what it eats or chases: "sam gives the dog a bone".
        IReadOnlyList<Noun> gifts = pet is null
            ? give.Objects
            : [.. pet.Deeds.Where(d => d.Verb.Base is "eat" or "chase").SelectMany(d => d.Objects)];
        if (gifts.Count == 0) return null;
        Noun gift = g.Pick(gifts);
        if (Lexicon.AnimalNouns.Contains(gift)) return null;
        string given = g.Chance(0.3) ? verb.Past : Grammar.Present(verb, who.Agreement);
        List<string> thing = g.NounPhrase(gift, plural: gift.Countable && g.Chance(0.25), adjectiveChance: 0.15);
        if (g.Chance(0.5)) return [.. who.Words, given, .. recipient, .. thing];
        if (g.Chance(0.6)) return [.. who.Words, given, .. thing, "to", .. recipient];
        Deed deed = g.Pick(ForDeeds);
        Noun made = g.Pick(deed.Objects);
        Tense tense = g.TenseFor(deed.Verb);
        return [.. who.Words, .. Grammar.Inflect(deed.Verb, who.Agreement, tense), .. g.NounPhrase(made, plural: false),
            "for", .. g.Companion(animals: false)];
    }

    List<string>? Weather()
    {
        bool past = g.Chance(0.25);
        string be = past ? "was" : "is";
        return g.Choose<Func<List<string>>>(
            (0.45, () => g.Chance(0.35)
                ? ["it", be, g.Pick(Lexicon.Weather), .. g.TimeFor(past ? Tense.Past : Tense.Present)]
                : ["it", be, g.Pick(Lexicon.Weather)]),
            (0.4, () => Grammar.WithArticle(["it", be, "a", g.Pick(Lexicon.Weather), g.Pick(Lexicon.TimesOfDay)])),
            (0.15, () => ["it", be, g.Pick(Lexicon.DayParts)]))();
    }

    List<string>? Telling()
    {
        if (g.Chance(0.5))
        {
            Deed deed = g.Pick(CommandDeeds);
            List<string> words = [deed.Verb.Base];
            if (deed.Particle is not null) words.Add(deed.Particle);
            return [.. words, .. g.ObjectPhrase(g.Pick(deed.Objects))];
        }
        Activity activity = g.Pick(Lexicon.HumanActivities);
        if (activity.Verb.Base == "come" && g.Chance(0.5)) return ["come", "here"];
        if (g.Chance(0.2)) return [activity.Verb.Base, "now"];
        Actor you = new(["you"], Agreement.Second, Lexicon.People[0], null);
        return g.PlaceFor(activity, you) is { } place ? [activity.Verb.Base, .. place] : null;
    }

    List<string>? Pointing()
    {
        bool plural = g.Chance(0.3);
        Noun noun = g.Pick(g.Choose((0.4, Lexicon.Things), (0.35, Lexicon.AnimalNouns), (0.25, Lexicon.Foods)));
        if (plural && !noun.Countable) return null;
        string near = plural ? (g.Chance(0.6) ? "these" : "those") : (g.Chance(0.6) ? "this" : "that");
        Agreement agreement = plural ? Agreement.Plural : Agreement.Third;
        return g.Choose<Func<List<string>?>>(
            (0.5, () => [near, Grammar.Be(agreement, false), .. g.NounPhrase(noun, plural, Reference.Named, adjectiveChance: 0.4)]),
            (0.3, () => g.PredicateAdjective(noun, []) is { } adjective
                ? [near, plural ? noun.Plural! : noun.Singular, Grammar.Be(agreement, false), adjective]
                : null),
            (0.2, () => ["here", Grammar.Be(agreement, false), .. g.NounPhrase(noun, plural, Reference.Named)]))();
    }
}
