using System.Globalization;
using System.Text.Json;

namespace MicroGpt;

/// <summary>What a resumed run does with an option.</summary>
public enum OnResume
{
    /// <summary>The option decides the run's numbers: a resumed run keeps the run's value, and asking for another is a conflict.</summary>
    KeepRuns,
    /// <summary>Kept in checkpoints; a resumed run keeps the run's value unless the call sets one.</summary>
    KeepRunsUnlessSet,
    /// <summary>Not kept in checkpoints: each call sets its own (threads, which results do not depend on).</summary>
    TakeCalls,
}

/// <summary>
/// One training option, described once (<see cref="TrainingOptions.All"/> lists them): its name
/// (the <see cref="TrainingOptions"/> property, and the cmdlet parameter that sets it), its key in
/// checkpoints and the file version that added it, the interval of its values, and what a resumed run
/// does with it. Validation, a checkpoint's JSON read and write, its checksum, resume conflicts and
/// the cmdlet's parameter validation all come from these descriptions.
/// </summary>
public sealed class TrainingOption
{
    readonly Func<TrainingOptions, object> get;
    readonly Func<TrainingOptions, object, TrainingOptions> with;

    TrainingOption(string name, Type type, Func<TrainingOptions, object> get, Func<TrainingOptions, object, TrainingOptions> with)
    {
        Name = name;
        Type = type;
        this.get = get;
        this.with = with;
    }

    /// <summary>The name of the <see cref="TrainingOptions"/> property.</summary>
    public string Name { get; }

    /// <summary>The type of its values: int, double, bool or an enum.</summary>
    public Type Type { get; }

    /// <summary>Its key in a checkpoint's <c>optimizer.options</c>; null for an option checkpoints do not keep.</summary>
    public string? Key { get; private init; }

    /// <summary>True for an option that checkpoints keep.</summary>
    public bool InCheckpoints => Key is not null;

    /// <summary>The model file version that added the key: older files do not have it, and give the default.</summary>
    public int Since { get; private init; } = 1;

    /// <summary>The values the option may take (besides <see cref="Unset"/>); null when any value of its type will do.</summary>
    public Interval? Range { get; private init; }

    /// <summary>
    /// A value outside <see cref="Range"/> that means "not set" (0 for an automatic validation
    /// interval), with what it means; a user sets the option by giving a value in the range.
    /// </summary>
    public (int Value, string Meaning)? Unset { get; private init; }

    /// <summary>What a resumed run does with it.</summary>
    public OnResume OnResume { get; private init; }

    /// <summary>The option's value in <paramref name="options"/>.</summary>
    public object Get(TrainingOptions options) => get(options);

    /// <summary><paramref name="options"/> with this option set to <paramref name="value"/>.</summary>
    public TrainingOptions With(TrainingOptions options, object value) => with(options, value);

    /// <summary>True when <paramref name="options"/> sets the option (its value is not <see cref="Unset"/>).</summary>
    public bool IsSet(TrainingOptions options) => Unset is not { } unset || !get(options).Equals(unset.Value);

    internal static TrainingOption Int(string name, string? key, Func<TrainingOptions, int> get, Func<TrainingOptions, int, TrainingOptions> with,
        Interval? range = null, OnResume onResume = OnResume.KeepRuns, (int, string)? unset = null, int since = 1) =>
        new(name, typeof(int), o => get(o), (o, v) => with(o, (int)v)) { Key = key, Range = range, OnResume = onResume, Unset = unset, Since = since };

    /// <summary>A real number, which training computes with in float32: it must stay within its range there too.</summary>
    internal static TrainingOption Real(string name, string key, Func<TrainingOptions, double> get, Func<TrainingOptions, double, TrainingOptions> with, Interval range, int since = 1) =>
        new(name, typeof(double), o => get(o), (o, v) => with(o, (double)v)) { Key = key, Range = range, Since = since };

    /// <summary>One of an enum's named values, kept in checkpoints by its name in lower case.</summary>
    internal static TrainingOption Choice<T>(string name, string key, Func<TrainingOptions, T> get, Func<TrainingOptions, T, TrainingOptions> with, int since = 1) where T : struct, Enum =>
        new(name, typeof(T), o => get(o), (o, v) => with(o, (T)v)) { Key = key, Since = since };

    internal static TrainingOption Flag(string name, string key, Func<TrainingOptions, bool> get, Func<TrainingOptions, bool, TrainingOptions> with, int since = 1) =>
        new(name, typeof(bool), o => get(o), (o, v) => with(o, (bool)v)) { Key = key, Since = since };

    /// <summary>Throws <see cref="InvalidConfigurationException"/> when the option's value in <paramref name="options"/> is out of its range.</summary>
    internal void Check(TrainingOptions options)
    {
        object value = get(options);
        if (Type.IsEnum && !Enum.IsDefined(Type, value))
            throw new InvalidConfigurationException(Name, value, $"{Name} must be one of {string.Join(", ", Enum.GetNames(Type))}; {value} is not.");
        if (Range is not { } range) return;
        if (Unset is { } unset && value.Equals(unset.Value)) return;
        double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        if (!range.Contains(number))
            throw new InvalidConfigurationException(Name, value, Unset is { } u
                ? $"{Name} must be {u.Value} ({u.Meaning}) or {range.Rule}; {value} is not."
                : $"{Name} must be {range.Rule}; {value} is not.");
        if (Type == typeof(double) && range.RefusalInFloat32(number) is { } refusal)
            throw new InvalidConfigurationException(Name, value, $"{Name} {value} is {(float)number} in float32, the precision training computes in; it must be {refusal}.");
    }

    internal void Write(Utf8JsonWriter json, TrainingOptions options)
    {
        switch (get(options))
        {
            case int i: json.WriteNumber(Key!, i); break;
            case double d: json.WriteNumber(Key!, d); break;
            case bool b: json.WriteBoolean(Key!, b); break;
            case Enum e: json.WriteString(Key!, e.ToString().ToLowerInvariant()); break;
        }
    }

    /// <summary><paramref name="options"/> with this option read from a checkpoint's <c>optimizer.options</c>; out-of-range values are left to <see cref="TrainingOptions.Validate"/>.</summary>
    internal TrainingOptions Read(JsonElement parent, TrainingOptions options)
    {
        object value = Type == typeof(bool) ? ModelFile.Required(parent, Key!, JsonValueKind.True, JsonValueKind.False).GetBoolean()
            : Type == typeof(int) ? ModelFile.RequiredInt(parent, Key!, allowNegative: true)
            : Type.IsEnum ? ReadName(ModelFile.Required(parent, Key!, JsonValueKind.String).GetString()!)
            : ModelFile.RequiredDouble(parent, Key!);
        return with(options, value);
    }

    /// <summary>The enum value a checkpoint names (in lower case, as <see cref="Write"/> writes it).</summary>
    object ReadName(string name) =>
        Enum.GetNames(Type).FirstOrDefault(known => known.ToLowerInvariant() == name) is { } known ? Enum.Parse(Type, known)
            : throw new FormatProblem($"'{Key}' is \"{StrictJson.Cut(name)}\", none of {string.Join(", ", Enum.GetNames(Type).Select(n => $"\"{n.ToLowerInvariant()}\""))}.");

    /// <summary>What a model file's checksum hashes of the option: an integer as it is, a real number's bits, true as 1 and false as 0.</summary>
    internal long ChecksumValue(TrainingOptions options) => get(options) switch
    {
        int i => i,
        double d => BitConverter.DoubleToInt64Bits(d),
        bool b => b ? 1 : 0,
        Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture),
        var other => throw new InvalidOperationException($"{Name} has values of type {other.GetType().Name}, which model files cannot hold."),
    };
}

/// <summary>
/// An interval of numbers whose ends may each be in it or not: (0, 1] for a learning rate, [0, 1)
/// for Adam's betas, [1, infinity) for a count of steps. NaN is in none.
/// </summary>
public readonly record struct Interval(double Minimum, double Maximum, bool ExcludeMinimum = false, bool ExcludeMaximum = false)
{
    /// <summary>[<paramref name="minimum"/>, infinity).</summary>
    public static Interval AtLeast(double minimum) => new(minimum, double.PositiveInfinity);

    public bool Contains(double value) =>
        (ExcludeMinimum ? value > Minimum : value >= Minimum) && (ExcludeMaximum ? value < Maximum : value <= Maximum);

    /// <summary>The rule in words: "greater than 0 and at most 1", "at least 1".</summary>
    public string Rule =>
        $"{(ExcludeMinimum ? "greater than" : "at least")} {Format(Minimum)}{(double.IsPositiveInfinity(Maximum) ? "" : $" and {(ExcludeMaximum ? "less than" : "at most")} {Format(Maximum)}")}";

    /// <summary>"(0, 1]", "[1, infinity)".</summary>
    public override string ToString() =>
        $"{(ExcludeMinimum ? "(" : "[")}{Format(Minimum)}, {(double.IsPositiveInfinity(Maximum) ? "infinity)" : $"{Format(Maximum)}{(ExcludeMaximum ? ")" : "]")}")}";

    /// <summary>
    /// For a value in the interval: why it does not work once rounded to float32, where an open end
    /// can be reached (1 - 1e-12 is 1) and a positive value can become 0 or a denormal, which make
    /// an update divide by 0 or multiply into infinities ("at least 1.17549435E-38"); or null.
    /// </summary>
    internal string? RefusalInFloat32(double value)
    {
        float rounded = (float)value;
        if (ExcludeMinimum && Minimum == 0 && !float.IsNormal(rounded)) return $"at least {SmallestNormal:G9}";
        if (!Contains(rounded)) return (float)Minimum >= rounded ? $"at least {MathF.BitIncrement((float)Minimum):G9}" : $"at most {MathF.BitDecrement((float)Maximum):G9}";
        return null;
    }

    const float SmallestNormal = 1.17549435E-38f;

    static string Format(double value) => value.ToString(CultureInfo.CurrentCulture);
}
