using System.Management.Automation;
using System.Reflection;

namespace MicroGpt.Commands;

/// <summary>
/// Marks a cmdlet parameter as the one that sets a training option (<see cref="TrainingOptions.All"/>
/// describes them). PowerShell validates its argument against the option's own range, so that the
/// cmdlet refuses exactly what the engine refuses (-LearningRate 0, -Beta1 1), before anything runs;
/// the cmdlet copies the parameters into <see cref="TrainingOptions"/> with <see cref="OptionsOf"/>,
/// and names them in resume conflicts. A switch that turns an option off (-NoShuffle) is
/// <see cref="Negated"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
sealed class TrainingOptionAttribute(string option) : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The option, by its <see cref="TrainingOptions"/> property's name.</summary>
    public TrainingOption Option => TrainingOptions.Option(option);

    /// <summary>The parameter is a switch that sets the option (a bool) to false.</summary>
    public bool Negated { get; set; }

    protected override void ValidateElement(object element)
    {
        if (Option.Range is { } range) ValidateIntervalAttribute.Check(range, element);
    }

    /// <summary>The option's value for the parameter's.</summary>
    public object ToOption(object? parameter) => parameter is SwitchParameter flag ? flag.IsPresent != Negated : parameter!;

    /// <summary>The parameter's value for the option's: -NoShuffle True for Shuffle false.</summary>
    public object ToParameter(object option) => Negated ? !(bool)option : option;

    /// <summary>The parameters of <paramref name="cmdlet"/> that set training options.</summary>
    public static IEnumerable<(PropertyInfo Parameter, TrainingOptionAttribute Attribute)> ParametersOf(Type cmdlet) =>
        cmdlet.GetProperties().Select(p => (p, p.GetCustomAttribute<TrainingOptionAttribute>()!)).Where(p => p.Item2 is not null);

    /// <summary>The options that a cmdlet's parameters set, each to its argument or, when not given, its default.</summary>
    public static TrainingOptions OptionsOf(PSCmdlet cmdlet) =>
        ParametersOf(cmdlet.GetType()).Aggregate(new TrainingOptions(), (options, p) => p.Attribute.Option.With(options, p.Attribute.ToOption(p.Parameter.GetValue(cmdlet))));
}
