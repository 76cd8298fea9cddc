using System.Globalization;
using System.Management.Automation;
using System.Reflection;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// Invoke-Training's parameters against the engine's description of the training options
/// (TrainingOptions.All): one parameter per option, of the option's type, with the option's
/// default, and refusing at binding exactly the values the engine refuses. A new option without
/// its parameter, or a parameter whose range or default drifts from the engine's, fails here.
/// </summary>
public class TrainingOptionParameterTests
{
    /// <summary>Invoke-Training's parameters that set training options, with the option each sets and whether it is negated (-NoShuffle).</summary>
    static List<(PropertyInfo Parameter, TrainingOption Option, bool Negated)> OptionParameters(PowerShellSession ps)
    {
        var command = (Type)Assert.Single(ps.Run("(Get-Command Invoke-Training).ImplementingType").Output).BaseObject;
        return command.GetProperties()
            .Select(p => (Parameter: p, Attribute: p.GetCustomAttributes().SingleOrDefault(a => a.GetType().Name == "TrainingOptionAttribute")))
            .Where(p => p.Attribute is not null)
            .Select(p => (p.Parameter, (TrainingOption)p.Attribute!.GetType().GetProperty("Option")!.GetValue(p.Attribute)!, (bool)p.Attribute.GetType().GetProperty("Negated")!.GetValue(p.Attribute)!))
            .ToList();
    }

    [Fact]
    public void EveryOptionHasOneParameterOfItsTypeWithItsDefault()
    {
        using var ps = new PowerShellSession();
        var parameters = OptionParameters(ps);
        Assert.Equal(TrainingOptions.All.OrderBy(o => o.Name), parameters.Select(p => p.Option).OrderBy(o => o.Name));

        var command = Activator.CreateInstance(parameters[0].Parameter.DeclaringType!)!;
        var defaults = new TrainingOptions();
        foreach (var (parameter, option, negated) in parameters)
        {
            Assert.True(parameter.GetCustomAttributes<ParameterAttribute>().Any(), $"{parameter.Name} is not a parameter");
            Assert.Equal(option.Type == typeof(bool) ? typeof(SwitchParameter) : option.Type, parameter.PropertyType);
            Assert.Equal(negated, parameter.Name != option.Name);
            object value = parameter.GetValue(command)!;
            object asOption = value is SwitchParameter flag ? flag.IsPresent != negated : value;
            // -CheckpointInterval's default is the interval of a run given -CheckpointPath; the engine's 0 means none was set.
            if (option.Name == nameof(TrainingOptions.CheckpointInterval)) Assert.True(option.Range!.Value.Contains((int)asOption));
            else Assert.Equal(option.Get(defaults), asOption);
        }
    }

    /// <summary>Values at and just beyond each end of every option's range: the ends themselves, one step outside, one step inside.</summary>
    public static TheoryData<string, string> Probes()
    {
        var probes = new TheoryData<string, string>();
        foreach (var option in TrainingOptions.All.Where(o => o.Range is not null))
        {
            var range = option.Range!.Value;
            double step = option.Type == typeof(int) ? 1 : 1e-3;
            foreach (double end in new[] { range.Minimum, range.Maximum }.Where(double.IsFinite))
                foreach (double value in new[] { end - step, end, end + step })
                    probes.Add(option.Name, value.ToString("R", CultureInfo.InvariantCulture));
        }
        return probes;
    }

    [Theory]
    [MemberData(nameof(Probes))]
    public void TheCmdletRefusesAtBindingWhatTheEngineRefusesAndPassesTheRest(string name, string text)
    {
        var option = TrainingOptions.Option(name);
        object value = option.Type == typeof(int) ? (object)int.Parse(text, CultureInfo.InvariantCulture) : double.Parse(text, CultureInfo.InvariantCulture);
        // At the highest learning rate, so that any minimum learning rate in its range is at most it.
        var highest = new TrainingOptions { LearningRate = 1 };
        string atHighest = name == nameof(TrainingOptions.LearningRate) ? "" : "-LearningRate 1";
        bool engineAccepts;
        try { option.With(highest, value).Validate(); engineAccepts = true; }
        catch (InvalidConfigurationException) { engineAccepts = false; }
        bool inRange = option.Range!.Value.Contains(Convert.ToDouble(value, CultureInfo.InvariantCulture));
        Assert.Equal(inRange || value.Equals(option.Unset?.Value), engineAccepts); // the engine also takes "not set" (0: automatic)

        using var ps = new PowerShellSession();
        // -WhatIf: the corpus is read and the trainer made (the engine checks every option), and nothing trains.
        var result = ps.Run($"Invoke-Training -Model (New-Model -Layers 1 -EmbeddingSize 8 -Heads 2) -Text 'the cat sat' -{name} {text} {atHighest} -WhatIf");
        if (inRange) result.ThrowIfFailed();
        else Assert.StartsWith("ParameterArgumentValidationError,", result.Error?.FullyQualifiedErrorId ?? "no error");
    }
}
