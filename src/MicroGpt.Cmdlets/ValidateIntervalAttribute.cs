using System.Globalization;
using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// Validates a number against an interval whose ends may be open, such as (0, 1] for a learning
/// rate or [0, 1) for Adam's betas. ValidateRange includes both ends, so it let -LearningRate 0 and
/// -Beta1 1 through to the engine; with this, PowerShell's own parameter validation refuses what
/// the engine refuses (the engine's check stays, for callers that are not cmdlets).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
sealed class ValidateIntervalAttribute(double minimum, double maximum) : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The minimum itself is refused.</summary>
    public bool ExcludeMinimum { get; set; }

    /// <summary>The maximum itself is refused.</summary>
    public bool ExcludeMaximum { get; set; }

    protected override void ValidateElement(object element)
    {
        double value = LanguagePrimitives.ConvertTo<double>(element);
        bool aboveMinimum = ExcludeMinimum ? value > minimum : value >= minimum;
        bool belowMaximum = ExcludeMaximum ? value < maximum : value <= maximum;
        if (aboveMinimum && belowMaximum) return; // NaN fails both
        string interval = $"{(ExcludeMinimum ? "(" : "[")}{Format(minimum)}, {Format(maximum)}{(ExcludeMaximum ? ")" : "]")}";
        string rule = $"{(ExcludeMinimum ? "greater than" : "at least")} {Format(minimum)} and {(ExcludeMaximum ? "less than" : "at most")} {Format(maximum)}";
        throw new ValidationMetadataException($"The argument {Format(value)} is outside {interval}: it must be {rule}.");
    }

    static string Format(double value) => value.ToString(CultureInfo.CurrentCulture);
}
