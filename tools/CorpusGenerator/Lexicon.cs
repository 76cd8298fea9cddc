// Every word the sentence corpus may use, with the meaning the grammar needs. The lists are
// written for this project (grade-1 words, no outside word list) and ordered from common to
// rare, because the grammar picks earlier entries more often, as real text does.
// Changing a list changes the committed corpus: regenerate it and run the corpus tests. The lists
// are sized so that the corpus has 596 distinct words, as the tutorial's had (see Sentences.cs).
namespace MicroGpt.CorpusGenerator;

public static class Lexicon
{
    // Adjective groups, expanded wherever an adjective list names them with '@'.
    static readonly Dictionary<string, string> AdjectiveGroups = new()
    {
        ["@color"] = "red blue green yellow pink black white brown gray orange purple",
        ["@feel"] = "happy sad glad mad shy sleepy hungry tired kind funny silly good bad brave",
        ["@manner"] = "fast slow loud quiet",
        ["@state"] = "wet dry clean dirty cold",
        ["@animal"] = "@feel @manner @state cute big little small fat old young",
        ["@person"] = "@feel @manner @state big little tall short old young",
    };

    // Noun groups that verbs and animals name with '@' in their object lists.
    static readonly Dictionary<string, string> NounGroups = new()
    {
        ["@pet"] = "dog cat puppy kitten bunny pig horse cow lamb goat sheep chick hen duck",
        ["@small"] = "ball hat book cup bag kite toy doll shoe sock flower drum bell key pen map stick rock shell leaf jar pot bowl box",
        ["@toy"] = "ball kite toy doll drum bell wagon boat car truck bike",
        ["@wear"] = "hat coat shoe sock",
    };

    public static readonly IReadOnlyList<string> Names = Split("sam nan tom pam ben kim max meg dan ted jen ann");

    /// <summary>Counts for plural nouns ("three ducks"); "one" goes with a singular noun.</summary>
    public static readonly IReadOnlyList<string> Numbers = Split("two three four five six seven eight nine ten");

    public static readonly IReadOnlyList<string> Colors = Expand("@color");

    public static readonly IReadOnlyList<string> Possessives = Split("my your his her our their");

    /// <summary>Nouns nobody's "my" fits: "her man" and "our fox" are not what a child says.</summary>
    public static readonly IReadOnlyList<string> Unowned = Split("man woman king queen farmer fox bear lion owl seal monkey crab worm ant bee");

    /// <summary>Verbs for states, not events: "pam has a boat" takes no "in the morning".</summary>
    public static readonly IReadOnlyList<string> States = Split("have like love want need");

    /// <summary>Verbs that make good commands: "kick the ball", "look at the moon" (never "have a bag").</summary>
    public static readonly IReadOnlyList<string> Commands =
        Split("look eat drink kick throw catch read pet feed hug help hold wash pick open push draw take get find make bake fix wear");

    public static readonly IReadOnlyList<Noun> People =
    [
        N("boy boys", "@person"),
        N("girl girls", "@person"),
        N("mom", "@person", NounUse.Family),
        N("dad", "@person", NounUse.Family),
        N("baby babies", "@person cute"),
        N("man men", "@person"),
        N("kid kids", "@person"),
        N("woman women", "@person"),
        N("friend friends", "@feel @manner big little tall old new"),
        N("teacher teachers", "@feel @manner tall old young new"),
        N("farmer farmers", "@feel @manner tall old young"),
        N("king", "@feel fat tall old young", NounUse.Unique),
        N("queen", "@feel tall old young", NounUse.Unique),
    ];

    /// <summary>What people eat.</summary>
    public static readonly IReadOnlyList<Noun> Foods =
    [
        N("cake cakes", "big little sweet yummy good pink white"),
        N("apple apples", "red green big little sweet sour fresh good"),
        N("cookie cookies", "big little sweet yummy good"),
        N("egg eggs", "big little brown white hot"),
        N("pie pies", "big little hot warm sweet yummy good"),
        N("muffin muffins", "big little warm sweet yummy good"),
        N("bread", "hot warm fresh good", NounUse.Mass),
        N("soup", "hot warm cold good yummy", NounUse.Mass),
        N("corn", "yellow sweet hot fresh", NounUse.Mass),
        N("nut nuts", "big little small brown"),
        N("carrot carrots", "big little long orange fresh"),
        N("banana bananas", "yellow long big little sweet"),
        N("jam", "red sweet yummy", NounUse.Mass),
        N("cheese", "yellow soft", NounUse.Mass),
        N("rice", "hot white warm", NounUse.Mass),
        N("honey", "sweet yummy", NounUse.Mass),
        N("pear pears", "green yellow sweet fresh"),
        N("bean beans", "green long little"),
        N("grape grapes", "green purple sweet sour"),
        N("berry berries", "red blue sweet sour little"),
        N("meat", "hot cold", NounUse.Mass),
    ];

    public static readonly IReadOnlyList<Noun> Drinks =
    [
        N("milk", "cold warm", NounUse.Mass),
        N("water", "cold warm", NounUse.Mass),
        N("juice", "cold sweet", NounUse.Mass),
        N("tea", "hot warm cold", NounUse.Mass),
    ];

    /// <summary>What animals eat and people do not.</summary>
    public static readonly IReadOnlyList<Noun> Fodder =
    [
        N("seed seeds", "little small"),
        N("bone bones", "big little long white"),
        N("grass", "green tall wet", NounUse.Mass),
        N("hay", "dry", NounUse.Mass),
    ];

    public static readonly IReadOnlyList<Noun> Things =
    [
        N("ball balls", "@color big little small new old soft"),
        N("hat hats", "@color big little new old funny"),
        N("box boxes", "big little small red brown new old"),
        N("book books", "@color big little new old funny good"),
        N("cup cups", "@color big little small new old clean dirty"),
        N("bag bags", "@color big little new old"),
        N("car cars", "@color big little new old fast"),
        N("kite kites", "@color big little new"),
        N("toy toys", "new old big little"),
        N("doll dolls", "big little new old pretty"),
        N("bike bikes", "@color new old"),
        N("boat boats", "big little red blue white"),
        N("shoe shoes", "@color new old clean dirty wet"),
        N("sock socks", "@color clean dirty wet dry"),
        N("flower flowers", "@color pretty"),
        N("tree trees", "big little tall green"),
        N("drum drums", "big little red loud new old"),
        N("bell bells", "big little loud"),
        N("coat coats", "@color warm new old wet"),
        N("bus buses", "big yellow red"),
        N("truck trucks", "big little red blue"),
        N("key keys", "big little old"),
        N("pen pens", "@color new"),
        N("map maps", "big little old"),
        N("stick sticks", "long short big little"),
        N("rock rocks", "big little small gray"),
        N("shell shells", "big little pink white pretty"),
        N("leaf leaves", "green red yellow brown big little"),
        N("star stars", "little"),
        N("jar jars", "big little"),
        N("pot pots", "big little hot"),
        N("bowl bowls", "big little blue red"),
        N("wagon wagons", "red big little old"),
        N("door doors", "red blue green"),
        N("chair chairs", "big little old"),
        N("sun", "hot", NounUse.Unique),
        N("moon", "big", NounUse.Unique),
    ];

    /// <summary>The animals' nouns, kept apart from <see cref="Animals"/> so that animals can chase and eat each other by name.</summary>
    public static readonly IReadOnlyList<Noun> AnimalNouns =
    [
        N("dog dogs", "@animal black white brown gray"),
        N("cat cats", "@animal black white gray brown orange"),
        N("duck ducks", "@animal white brown yellow"),
        N("hen hens", "@animal red brown white"),
        N("pig pigs", "@animal pink"),
        N("cow cows", "@animal brown black white"),
        N("bird birds", "@animal red blue yellow brown black"),
        N("fish fish", "@animal red blue yellow orange"),
        N("frog frogs", "@animal green brown"),
        N("horse horses", "@animal brown white black gray"),
        N("bunny bunnies", "@animal white brown gray"),
        N("puppy puppies", "@animal brown black white"),
        N("kitten kittens", "@animal gray black white orange"),
        N("sheep sheep", "@animal white black"),
        N("goat goats", "@animal white brown black"),
        N("fox foxes", "@animal red"),
        N("bear bears", "@animal brown black"),
        N("mouse mice", "@animal gray brown white"),
        N("owl owls", "@animal brown white gray"),
        N("bee bees", "@animal yellow"),
        N("chick chicks", "@animal yellow"),
        N("lamb lambs", "@animal white"),
        N("bug bugs", "@animal green red black"),
        N("ant ants", "@animal black red"),
        N("lion lions", "@animal"),
        N("seal seals", "@animal gray"),
        N("monkey monkeys", "@animal brown"),
        N("crab crabs", "@animal red"),
        N("worm worms", "@animal pink brown"),
    ];

    public static readonly IReadOnlyList<Place> Places =
    [
        P("park", PlaceKind.Outdoor, "in at to", "big little"),
        P("yard", PlaceKind.Outdoor | PlaceKind.Soil, "in to into", "big little green"),
        P("house", PlaceKind.Indoor | PlaceKind.Landmark, "in by near to into over", "big little old red"),
        P("pond", PlaceKind.Water | PlaceKind.Landmark, "in by near to into over", "big little cold"),
        P("garden", PlaceKind.Outdoor | PlaceKind.Soil, "in to into", "big little green"),
        P("barn", PlaceKind.Indoor | PlaceKind.Landmark, "in by near to into over", "big old red"),
        P("school", PlaceKind.Indoor, "at near to", "big little", bare: true),
        P("bed", PlaceKind.Snug | PlaceKind.Climbable, "in on under to into", "big little warm", bare: true),
        P("tree", PlaceKind.Snug | PlaceKind.Climbable | PlaceKind.Landmark, "in under up near to over", "big little tall green"),
        P("field", PlaceKind.Outdoor | PlaceKind.Soil, "in to into", "big green"),
        P("farm", PlaceKind.Outdoor, "on at to", "big little old"),
        P("lake", PlaceKind.Water | PlaceKind.Landmark, "in by near to into over", "big cold"),
        P("box", PlaceKind.Snug | PlaceKind.Climbable, "in on under into over", "big little"),
        P("room", PlaceKind.Indoor, "in to into", "big little"),
        P("sky", PlaceKind.Sky, "in", "blue"),
        P("zoo", PlaceKind.Outdoor, "at to", "big"),
        P("woods", PlaceKind.Outdoor | PlaceKind.Soil, "in near to into", "big"),
        P("hill", PlaceKind.Outdoor | PlaceKind.Climbable | PlaceKind.Landmark, "on up down over to", "big little green"),
        P("kitchen", PlaceKind.Indoor, "in to into", "big little"),
        P("nest", PlaceKind.Snug, "in to", "little warm"),
        P("sea", PlaceKind.Water, "in by to into", "blue cold"),
        P("shop", PlaceKind.Indoor, "at in to into", "big little"),
        P("pool", PlaceKind.Water, "in by to into", "big little cold"),
        P("grass", PlaceKind.Outdoor | PlaceKind.Soil, "in on into", "green tall wet"),
        P("sand", PlaceKind.Outdoor | PlaceKind.Soil, "in on", "hot wet"),
        P("snow", PlaceKind.Outdoor | PlaceKind.Soil, "in into", "cold white"),
        P("mud", PlaceKind.Outdoor | PlaceKind.Soil, "in into", "wet"),
        P("sun", PlaceKind.Outdoor, "in", "hot"),
        P("rain", PlaceKind.Outdoor, "in", "cold"),
        P("road", PlaceKind.Outdoor, "on by down", "long"),
        P("den", PlaceKind.Snug, "in to into", "warm"),
        P("home", PlaceKind.Indoor, "at to", ""),
    ];

    /// <summary>Where people go: every place but the animals' own.</summary>
    public static readonly IReadOnlyList<Place> HumanPlaces = [.. Places.Where(p => p.Noun is not ("nest" or "den" or "sky"))];

    /// <summary>Places that can be someone's: "in my room", "on our farm".</summary>
    public static readonly IReadOnlyList<string> OwnablePlaces = Split("house room bed yard garden farm");

    /// <summary>What a food or drink that is not counted comes in: "a cup of tea", "a jar of honey".</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Containers = new Dictionary<string, IReadOnlyList<string>>
    {
        ["milk"] = Split("cup"),
        ["water"] = Split("cup"),
        ["juice"] = Split("cup"),
        ["tea"] = Split("cup pot"),
        ["soup"] = Split("bowl pot cup"),
        ["rice"] = Split("bowl"),
        ["jam"] = Split("jar"),
        ["honey"] = Split("jar"),
        ["corn"] = Split("bag"),
    };

    /// <summary>What counted foods come in, several at a time: "a bag of apples".</summary>
    public static readonly IReadOnlyList<string> Holders = Split("bag box bowl");

    /// <summary>Verbs without an object, with the kinds of place they happen in and the prepositions they take there.</summary>
    public static readonly IReadOnlyList<Activity> Activities =
    [
        A("run runs ran running", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at on to into up down")),
        A("play plays played playing", (PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Water | PlaceKind.Snug, "in at on by near")),
        A("go goes went going", (PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Water | PlaceKind.Snug, "to")),
        A("sleep sleeps slept sleeping", (PlaceKind.Indoor | PlaceKind.Snug, "in at on under")),
        A("jump jumps jumped jumping", (PlaceKind.Outdoor | PlaceKind.Snug, "in on into over"), (PlaceKind.Water, "in into")),
        A("walk walks walked walking", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at on to into up down by near")),
        A("swim swims swam swimming", (PlaceKind.Water, "in to")),
        A("sit sits sat sitting", (PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Snug, "in at on under by near")),
        A("fly flies flew flying", (PlaceKind.Sky, "in"), (PlaceKind.Landmark | PlaceKind.Snug, "over to")),
        A("sing sings sang singing", (PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Snug, "in at on")),
        A("come comes came coming", (PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Water | PlaceKind.Snug, "to")),
        A("dance dances danced dancing", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at on")),
        A("hide hides hid hiding", (PlaceKind.Indoor | PlaceKind.Snug | PlaceKind.Outdoor, "in under")),
        A("hop hops hopped hopping", (PlaceKind.Outdoor, "in on to into")),
        A("dig digs dug digging", (PlaceKind.Soil, "in")),
        A("climb climbs climbed climbing", (PlaceKind.Climbable, "up on")),
        A("nap naps napped napping", (PlaceKind.Indoor | PlaceKind.Snug | PlaceKind.Outdoor, "in on under")),
        A("rest rests rested resting", (PlaceKind.Outdoor | PlaceKind.Indoor | PlaceKind.Snug, "in at on under by near")),
        A("laugh laughs laughed laughing", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at")),
        A("wait waits waited waiting", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at by near")),
        A("cry cries cried crying", (PlaceKind.Indoor | PlaceKind.Snug, "in at")),
        A("smile smiles smiled smiling", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at")),
        A("bark barks barked barking", (PlaceKind.Outdoor | PlaceKind.Indoor, "in at")),
    ];

    /// <summary>What people can do: every activity but flying and barking.</summary>
    public static readonly IReadOnlyList<Activity> HumanActivities =
        [.. Activities.Where(a => a.Verb.Base is not ("fly" or "bark"))];

    static readonly Dictionary<string, Noun> NounsBySingular =
        People.Concat(Foods).Concat(Drinks).Concat(Fodder).Concat(Things).Concat(AnimalNouns).ToDictionary(n => n.Singular);

    /// <summary>Things that get left about and looked for: "the ball is under the bed", never "the stars are in the rain".</summary>
    public static readonly IReadOnlyList<Noun> Portables = Nouns("@small @toy");

    /// <summary>Verbs with an object, for people, most common first.</summary>
    public static readonly IReadOnlyList<Deed> Deeds =
    [
        D("have has had", "@small @toy @pet @food"),
        D("like likes liked", "@food @drink @toy @animal"),
        D("see sees saw", "@animal @thing @person"),
        D("eat eats ate eating", "@food"),
        D("want wants wanted", "@food @drink @toy"),
        D("play plays played playing", "@toy @pet @person", "with"),
        D("look looks looked looking", "@animal @thing @person", "at"),
        D("get gets got", "@small @food"),
        D("love loves loved", "@food @pet @person"),
        D("make makes made making", "cake pie muffin cookie bread soup jam kite hat"),
        D("find finds found", "@small frog bug worm egg"),
        D("hold holds held holding", "@small kitten puppy bunny chick frog baby"),
        D("drink drinks drank drinking", "@drink"),
        D("read reads read reading", "book map"),
        D("kick kicks kicked kicking", "ball rock box"),
        D("pet pets petted", "@pet"),
        D("feed feeds fed", "@pet fish bird bear lion seal monkey baby"),
        D("hug hugs hugged", "@pet @person"),
        D("help helps helped", "@person @pet"),
        D("ride rides rode riding", "bike horse bus boat wagon"),
        D("throw throws threw", "ball stick rock"),
        D("catch catches caught", "ball fish bug frog"),
        D("wash washes washed", "cup pot bowl car bike @pet baby"),
        D("pick picks picked", "flower apple pear berry grape bean"),
        D("bake bakes baked", "cake pie muffin cookie bread"),
        D("fix fixes fixed", "car bike truck toy chair door wagon drum"),
        D("open opens opened", "box door bag jar book"),
        D("need needs needed", "@small @wear @food"),
        D("push pushes pushed", "wagon car truck bike box chair"),
        D("drop drops dropped", "cup bowl egg ball book pen hat key jar"),
        D("draw draws drew", "@animal sun moon star tree flower boat car"),
        D("take takes took", "@small"),
        D("chase chases chased chasing", "ball kite @pet bug"),
        D("wear wears wore", "@wear"),
        D("fly flies flew flying", "kite"),
        D("give gives gave", "@food @toy"),
    ];

    /// <summary>What animals say ("the cow says moo"); only the animals use it, so it is no deed.</summary>
    public static readonly Verb Say = Verb.Parse("say says said");

    /// <summary>What people do to things, apart from giving, which needs two objects and has its own sentences.</summary>
    public static readonly IReadOnlyList<Deed> HumanDeeds = [.. Deeds.Where(d => d.Verb.Base != "give")];

    /// <summary>The animals: what each one does, eats, drinks and chases, where it is found, and what it says.</summary>
    public static readonly IReadOnlyList<Animal> Animals =
    [
        Beast("dog", "run play go sleep jump walk swim sit come hide dig nap rest bark", eats: "bone meat cookie", drinks: "water milk",
            chases: "cat ball stick duck", homes: "yard house park field grass sun snow mud bed box pond lake hill road home", sound: "woof"),
        Beast("cat", "run play sleep jump walk sit climb hide nap rest go come", eats: "fish", drinks: "milk water",
            chases: "mouse bird bug ball", homes: "house yard box bed room kitchen garden sun tree grass home", sound: "meow"),
        Beast("duck", "swim walk fly sit sleep rest hide go come", eats: "bread seed bug corn", drinks: "water",
            chases: "bug", homes: "pond lake grass barn sky farm", sound: "quack"),
        Beast("hen", "walk run sit sleep rest hide go", eats: "corn seed bug worm", drinks: "water",
            chases: "bug worm", homes: "barn farm yard nest grass", sound: "cluck"),
        Beast("pig", "walk run sit sleep nap rest dig play go", eats: "corn apple carrot", drinks: "water",
            chases: "", homes: "mud barn farm", sound: "oink"),
        Beast("cow", "walk run sit sleep rest go come", eats: "grass hay corn", drinks: "water",
            chases: "", homes: "field barn farm grass hill", sound: "moo"),
        Beast("bird", "fly sing hop sit sleep rest", eats: "seed worm bug berry", drinks: "water",
            chases: "bug worm", homes: "nest tree sky", sound: "tweet"),
        Beast("fish", "swim hide rest sleep", eats: "bug worm", drinks: "",
            chases: "bug", homes: "pond lake sea pool", sound: null),
        Beast("frog", "hop jump swim sit sleep hide", eats: "bug", drinks: "",
            chases: "bug", homes: "pond lake mud grass", sound: "ribbit"),
        Beast("horse", "walk run jump sleep rest go", eats: "hay grass carrot apple", drinks: "water",
            chases: "", homes: "barn field farm hill", sound: "neigh"),
        Beast("bunny", "hop jump run hide dig sleep", eats: "carrot grass", drinks: "water",
            chases: "", homes: "garden field woods grass", sound: null),
        Beast("puppy", "run play jump sleep nap dig", eats: "bone", drinks: "milk water",
            chases: "ball stick cat", homes: "house yard bed box grass", sound: "woof"),
        Beast("kitten", "play run jump sleep nap hide climb", eats: "fish", drinks: "milk",
            chases: "ball bug mouse", homes: "house box bed tree", sound: "meow"),
        Beast("sheep", "walk run sit sleep rest", eats: "grass hay", drinks: "water",
            chases: "", homes: "field farm hill grass", sound: "baa"),
        Beast("goat", "walk run jump climb sleep rest", eats: "grass hay", drinks: "water",
            chases: "", homes: "farm hill field", sound: null),
        Beast("fox", "run walk jump hide sleep dig sit", eats: "egg berry", drinks: "water",
            chases: "hen chick duck bunny", homes: "woods den field snow", sound: null),
        Beast("bear", "walk run climb swim sleep", eats: "honey fish berry", drinks: "water",
            chases: "fish", homes: "woods den tree lake", sound: null),
        Beast("mouse", "run hide sleep dig climb", eats: "cheese nut seed", drinks: "water",
            chases: "", homes: "house barn box kitchen", sound: "squeak"),
        Beast("owl", "fly sit sleep hide", eats: "mouse bug", drinks: "",
            chases: "mouse", homes: "tree woods barn sky", sound: "hoot"),
        Beast("bee", "fly", eats: "honey", drinks: "",
            chases: "", homes: "garden tree sky", sound: "buzz"),
        Beast("chick", "walk run hop sleep hide", eats: "corn seed bug", drinks: "water",
            chases: "bug", homes: "barn nest farm grass", sound: "peep"),
        Beast("lamb", "run jump play sleep", eats: "grass", drinks: "milk",
            chases: "", homes: "field farm hill grass", sound: "baa"),
        Beast("bug", "fly walk hop hide dig", eats: "leaf grass", drinks: "",
            chases: "", homes: "grass garden", sound: null),
        Beast("ant", "walk run dig", eats: "jam cake bread", drinks: "",
            chases: "", homes: "sand garden grass", sound: null),
        Beast("lion", "run walk sleep rest", eats: "meat", drinks: "water",
            chases: "", homes: "zoo", sound: "roar"),
        Beast("seal", "swim rest sleep play", eats: "fish", drinks: "",
            chases: "fish", homes: "sea sand", sound: null),
        Beast("monkey", "climb jump play", eats: "banana", drinks: "water",
            chases: "", homes: "zoo tree", sound: null),
        Beast("crab", "walk dig hide", eats: "fish bug", drinks: "",
            chases: "", homes: "sand sea", sound: null),
        Beast("worm", "dig hide", eats: "leaf", drinks: "",
            chases: "", homes: "mud garden grass", sound: null),
    ];

    /// <summary>When things happen, by the tenses each phrase fits.</summary>
    public static readonly IReadOnlyList<string> PresentTimes = Phrases(
        "at night|in the morning|every day|at dusk|today|at noon|in the evening|all day|at dawn|in the summer|in the winter"
        + "|every morning|every night");

    public static readonly IReadOnlyList<string> PastTimes = Phrases(
        "yesterday|at night|in the morning|today|at dusk|all day|at noon|in the evening|at dawn|in the summer|in the winter");

    public static readonly IReadOnlyList<string> ProgressiveTimes = Phrases("now|today|at night|in the morning|in the evening");

    public static readonly IReadOnlyList<string> Weather = Split("hot cold sunny windy rainy warm wet");

    /// <summary>What a day can be like: "it is a cold night".</summary>
    public static readonly IReadOnlyList<string> TimesOfDay = Split("day night morning evening");

    /// <summary>What time it can be: "it is noon".</summary>
    public static readonly IReadOnlyList<string> DayParts = Split("night morning noon evening");

    /// <summary>Adjectives on one scale contradict each other: "the big dog is little" must never be said.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> Scales =
    [
        .. Phrases("big little small fat tall short long|old young new|happy sad glad mad|wet dry|clean dirty|hot cold warm"
            + "|fast slow|loud quiet|good bad|sweet sour").Select(Split),
        Colors,
    ];

    /// <summary>Every word the lexicon holds, so that the sentence corpus can give each one its uses.</summary>
    public static readonly IReadOnlyList<string> Words =
    [
        .. new[] { People, Foods, Drinks, Fodder, Things, AnimalNouns }.SelectMany(list => list).SelectMany(n => n.Forms.Concat(n.Adjectives)),
        .. Places.SelectMany(p => p.Forms.Concat(p.Adjectives)),
        .. Activities.SelectMany(a => a.Forms),
        .. Deeds.SelectMany(d => d.Forms),
        .. Say.Forms,
        .. Animals.SelectMany(a => a.Forms),
        .. Names, .. Numbers, .. Possessives, .. Weather, .. TimesOfDay, .. DayParts,
        .. PresentTimes.Concat(PastTimes).Concat(ProgressiveTimes).SelectMany(Split),
        .. Containers.Values.SelectMany(c => c), .. Holders,
    ];

    static IReadOnlyList<string> Split(string words) => words.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    static IReadOnlyList<string> Phrases(string phrases) => phrases.Split('|');

    /// <summary>Words, with '@' groups replaced by their members (groups may name groups).</summary>
    static IReadOnlyList<string> Expand(string words) =>
        [.. Split(words).SelectMany(w => AdjectiveGroups.TryGetValue(w, out string? group) ? Expand(group) : [w]).Distinct()];

    static IReadOnlyList<Noun> Nouns(string names) => [.. Split(names).SelectMany(NounsOf).Distinct()];

    static IEnumerable<Noun> NounsOf(string name) => name switch
    {
        "@food" => Foods,
        "@drink" => Drinks,
        "@thing" => Things,
        "@animal" => AnimalNouns,
        "@person" => People,
        _ when NounGroups.TryGetValue(name, out string? group) => Nouns(group),
        _ when NounsBySingular.TryGetValue(name, out Noun? noun) => [noun],
        _ => throw new InvalidOperationException($"The lexicon has no noun '{name}'."),
    };

    static Noun N(string forms, string adjectives, NounUse use = NounUse.Common)
    {
        IReadOnlyList<string> f = Split(forms);
        return new Noun(f[0], f.Count > 1 ? f[1] : null, use, Expand(adjectives));
    }

    static Place P(string noun, PlaceKind kind, string preps, string adjectives, bool bare = false) =>
        new(noun, kind, Split(preps), bare, Split(adjectives));

    static Activity A(string forms, params (PlaceKind Kinds, string Preps)[] settings) =>
        new(Verb.Parse(forms), [.. settings.Select(s => new Setting(s.Kinds, Split(s.Preps)))]);

    static Deed D(string forms, string objects, string? particle = null) => new(Verb.Parse(forms), Nouns(objects), particle);

    static Verb VerbNamed(string verb) => Deeds.Select(d => d.Verb).Concat(Activities.Select(a => a.Verb)).First(v => v.Base == verb);

    // An animal's deeds follow from what it eats, drinks and chases, so the data names only those.
    static Animal Beast(string name, string does, string eats, string drinks, string chases, string homes, string? sound)
    {
        IReadOnlyList<Activity> activities = [.. Split(does).Select(verb => Activities.Single(a => a.Verb.Base == verb))];
        IReadOnlyList<Noun> food = Nouns(eats), drink = Nouns(drinks), prey = Nouns(chases);
        List<Deed> deeds = [new(VerbNamed("see"), AnimalNouns), new(VerbNamed("look"), AnimalNouns, "at")];
        if (food.Count > 0)
        {
            deeds.Add(new(VerbNamed("eat"), food));
            deeds.Add(new(VerbNamed("like"), [.. food, .. prey]));
            deeds.Add(new(VerbNamed("want"), food));
            deeds.Add(new(VerbNamed("find"), food));
        }
        if (drink.Count > 0) deeds.Add(new(VerbNamed("drink"), drink));
        if (prey.Count > 0) deeds.Add(new(VerbNamed("chase"), prey));
        if (prey.Count > 0 && activities.Any(a => a.Verb.Base == "play")) deeds.Add(new(VerbNamed("play"), prey, "with"));
        if (activities.Any(a => a.Verb.Base == "bark")) deeds.Add(new(VerbNamed("bark"), [.. AnimalNouns, .. People], "at"));
        return new(NounsBySingular[name], activities, deeds, [.. Split(homes).Select(place => Places.Single(p => p.Noun == place))], sound);
    }
}
