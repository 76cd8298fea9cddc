using System.Globalization;
using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// Validates a number against an interval whose ends may be open, such as (0, 1] for top-p.
/// ValidateRange includes both ends, so it let -TopP 0 through to the engine; with this,
/// PowerShell's own parameter validation refuses what the engine refuses (the engine's check
/// stays, for callers that are not cmdlets).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
sealed class ValidateIntervalAttribute(double minimum, double maximum) : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The minimum itself is refused.</summary>
    public bool ExcludeMinimum { get; set; }

    /// <summary>The maximum itself is refused.</summary>
    public bool ExcludeMaximum { get; set; }

    protected override void ValidateElement(object element) => Check(new Interval(minimum, maximum, ExcludeMinimum, ExcludeMaximum), element);

    /// <summary>Refuses an argument outside <paramref name="interval"/>, saying the rule.</summary>
    internal static void Check(Interval interval, object element)
    {
        double value = LanguagePrimitives.ConvertTo<double>(element);
        if (!interval.Contains(value)) // NaN is in no interval
            throw new ValidationMetadataException($"The argument {value.ToString(CultureInfo.CurrentCulture)} is outside {interval}: it must be {interval.Rule}.");
    }
}
