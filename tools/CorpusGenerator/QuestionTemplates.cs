// The kinds of question a first-grader asks ("can the dog run", "where is the red ball",
// "what does the cow eat"), written without a question mark like the rest of the corpus. They
// are built from the same grammar as the statements, so they can only use the corpus's words.
namespace MicroGpt.CorpusGenerator;

public sealed class QuestionTemplates
{
    const PlaceKind Holding = PlaceKind.Snug | PlaceKind.Indoor | PlaceKind.Water | PlaceKind.Sky;

    readonly Grammar g;
    readonly (double Weight, Func<List<string>?> Build)[] templates;

    public QuestionTemplates(Grammar grammar)
    {
        g = grammar;
        templates =
        [
            (12, Can),            // can the dog run
            (12, IsIt),           // is the cake sweet
            (10, Where),          // where is the red ball
            (12, DoesIt),         // do cats like milk
            (10, WhatDoes),       // what does the cow eat
            (10, Who),            // who has the hat
            (5, WhatIsIn),        // what is in the box
            (7, IsItThere),       // is the frog in the pond
            (6, HowMany),         // how many ducks are in the pond
            (5, WhatColor),       // what color is the ball
            (4, WeatherAsk),      // is it cold
            (4, Will),            // will we go to the zoo
            (5, WhatDoing),       // what is the cat doing
        ];
    }

    /// <summary>A question, or null when the choices made did not fit together.</summary>
    public List<string>? Next() => g.Choose(templates)();

    List<string>? Can()
    {
        Actor who = g.Subject();
        // Now and then something the subject cannot do: "can a fish fly".
        Activity activity = g.Pick(g.Chance(0.25) ? Lexicon.Activities : who.Activities);
        List<string> words = ["can", .. who.Words, activity.Verb.Base];
        if (!who.Activities.Contains(activity)) return activity.Goes ? null : words;
        return g.Whereabouts(activity, who, 0.3) is { } place ? [.. words, .. place] : null;
    }

    List<string>? IsIt()
    {
        Actor who = g.Choose<Func<Actor>>(
            (0.55, () => g.Subject()), (0.25, () => g.ThingSubject(Lexicon.Foods)), (0.2, () => g.ThingSubject(Lexicon.Things)))();
        string? adjective = g.PredicateAdjective(who.Noun, who.Words);
        return adjective is null ? null : [Grammar.Be(who.Agreement, past: g.Chance(0.2)), .. who.Words, adjective];
    }

    List<string>? Where()
    {
        if (g.Chance(0.55))
        {
            // "where is the red ball", "where are my shoes", "where is sam"
            if (g.Chance(0.2)) return ["where", g.Chance(0.2) ? "was" : "is", g.Pick(Lexicon.Names)];
            Actor what = g.Chance(0.5) ? g.AnimalSubject(Reference.Known) : g.ThingSubject(Lexicon.Portables, Reference.Known);
            return ["where", Grammar.Be(what.Agreement, past: g.Chance(0.2)), .. what.Words];
        }
        // "where does the bird sleep", "where did the cat go"
        Actor who = g.Subject();
        Activity activity = g.Pick(who.Activities);
        if (g.PlaceFor(activity, who) is null) return null;
        return ["where", Grammar.Do(who.Agreement, past: g.Chance(0.3)), .. who.Words, activity.Verb.Base];
    }

    List<string>? DoesIt()
    {
        Actor who = g.Subject();
        Deed deed = g.Pick(who.Deeds);
        Noun thing = g.Pick(deed.Objects);
        if (thing == who.Noun) return null;
        List<string> words = [Grammar.Do(who.Agreement, past: g.Chance(0.3)), .. who.Words, deed.Verb.Base];
        if (deed.Particle is not null) words.Add(deed.Particle);
        return [.. words, .. g.ObjectPhrase(thing)];
    }

    List<string>? WhatDoes()
    {
        Actor who = g.Subject();
        Deed deed = g.Pick(who.Deeds);
        if (deed.Objects.All(n => Lexicon.People.Contains(n))) return null;   // "what" asks after a thing, not a person
        List<string> words = ["what", Grammar.Do(who.Agreement, past: g.Chance(0.3)), .. who.Words, deed.Verb.Base];
        if (deed.Particle is not null) words.Add(deed.Particle);
        return words;
    }

    List<string>? Who()
    {
        Actor someone = g.Choose<Func<Actor>>((0.7, g.PronounSubject), (0.3, () => g.AnimalSubject()))();
        Actor who = new(["who"], Agreement.Third, someone.Noun, someone.Animal);
        return g.Choose<Func<List<string>?>>(
            (0.5, () =>
            {
                Deed deed = g.Pick(who.Deeds);
                Tense tense = g.TenseFor(deed.Verb);
                List<string> words = ["who", .. Grammar.Inflect(deed.Verb, Agreement.Third, tense)];
                if (deed.Particle is not null) words.Add(deed.Particle);
                return [.. words, .. g.ObjectPhrase(g.Pick(deed.Objects))];
            }),
            (0.2, () => ["who", "can", g.Pick(who.Activities).Verb.Base]),
            (0.15, () => g.PredicateAdjective(who.Noun, []) is { } adjective ? ["who", "is", adjective] : null),
            (0.15, () =>
            {
                Activity activity = g.Pick(who.Activities);
                return activity.Verb.Ing is null || activity.Goes ? null : ["who", "is", activity.Verb.Ing];
            }))();
    }

    List<string>? WhatIsIn()
    {
        // Somewhere things can be inside: "what is in the box", "what is in the sky" (not "in the rain").
        Place place = g.Pick(Lexicon.Places);
        List<string> preps = [.. place.Preps.Where(p => p is "in" or "on" or "under")];
        if (preps.Count == 0 || place.Noun == "home" || (place.Kind & Holding) == 0) return null;
        return ["what", g.Chance(0.2) ? "was" : "is", .. g.Locate(g.Pick(preps), place, human: false)];
    }

    List<string>? IsItThere()
    {
        Actor who = g.Choose<Func<Actor>>((0.7, () => g.Subject()), (0.3, () => g.ThingSubject(Lexicon.Portables)))();
        List<string>? place = g.StayingPlace(who, onLand: who.Animal is null);
        return place is null ? null : [Grammar.Be(who.Agreement, past: g.Chance(0.25)), .. who.Words, .. place];
    }

    List<string>? HowMany()
    {
        if (g.Chance(0.5))
        {
            // "how many ducks are in the pond"
            Animal animal = g.Pick(Lexicon.Animals);
            Actor them = new([animal.Noun.Plural!], Agreement.Plural, animal.Noun, animal);
            List<string>? place = g.StayingPlace(them);
            return place is null ? null : ["how", "many", animal.Noun.Plural!, Grammar.Be(Agreement.Plural, past: g.Chance(0.25)), .. place];
        }
        // "how many apples does nan have"
        Actor who = g.Subject();
        Deed deed = g.Pick(who.Deeds);
        if (deed.Particle is not null) return null;
        Noun thing = g.Pick(deed.Objects);
        if (!thing.Countable || thing == who.Noun) return null;
        return ["how", "many", thing.Plural!, Grammar.Do(who.Agreement, past: g.Chance(0.3)), .. who.Words, deed.Verb.Base];
    }

    List<string>? WhatColor()
    {
        Noun noun = g.Pick(g.Chance(0.6) ? Lexicon.Things : Lexicon.AnimalNouns);
        if (!noun.Adjectives.Any(Lexicon.Colors.Contains)) return null;
        bool plural = noun.Countable && g.Chance(0.3);
        string determiner = g.Chance(0.6) ? "the" : g.Pick(Lexicon.Possessives);
        return ["what", "color", Grammar.Be(plural ? Agreement.Plural : Agreement.Third, past: g.Chance(0.2)),
            determiner, plural ? noun.Plural! : noun.Singular];
    }

    List<string>? WeatherAsk()
    {
        string be = g.Chance(0.25) ? "was" : "is";
        if (g.Chance(0.25)) return [be, "it", g.Pick(Lexicon.DayParts)];
        List<string> words = [be, "it", g.Pick(Lexicon.Weather)];
        if (g.Chance(0.3)) words.AddRange(g.TimeFor(be == "was" ? Tense.Past : Tense.Present));
        return words;
    }

    List<string>? Will()
    {
        Actor who = g.Subject();
        Activity activity = g.Pick(who.Activities);
        List<string> words = ["will", .. who.Words, activity.Verb.Base];
        return g.Whereabouts(activity, who, 0.5) is { } place ? [.. words, .. place] : null;
    }

    List<string>? WhatDoing()
    {
        Actor who = g.Subject();
        List<string> asked = ["what", Grammar.Be(who.Agreement, past: g.Chance(0.2)), .. who.Words];
        if (g.Chance(0.5)) return [.. asked, "doing"];
        Deed deed = g.Pick(who.Deeds);
        if (deed.Verb.Ing is null || deed.Objects.All(n => Lexicon.People.Contains(n))) return null;
        return deed.Particle is null ? [.. asked, deed.Verb.Ing] : [.. asked, deed.Verb.Ing, deed.Particle];
    }
}
