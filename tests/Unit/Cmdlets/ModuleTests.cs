using System.Management.Automation;
using System.Management.Automation.Language;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>The module as a whole: manifest, exported commands, help, completion, Pester files.</summary>
public class ModuleTests
{
    static readonly string[] Cmdlets = ["New-Tokenizer", "Get-Tokens", "New-Model", "Invoke-Training", "Save-Model", "Import-Model", "Invoke-Generation", "Measure-Model", "Export-LossChart", "Get-Prediction", "Get-Attention", "Export-AttentionMap", "Find-SimilarToken"];

    [Fact]
    public void TheManifestPassesTestModuleManifestAndExportsExactlyTheCmdlets()
    {
        using var ps = new PowerShellSession();
        var manifest = Assert.IsType<PSModuleInfo>(Assert.Single(ps.Run($"Test-ModuleManifest '{Path.Combine(PowerShellSession.ModulePath, "MicroGpt.psd1")}'").Output).BaseObject);
        Assert.Equal(typeof(Model).Assembly.GetName().Version!.ToString(3), manifest.Version.ToString(3));
        Assert.Equal("7.4", manifest.PowerShellVersion.ToString());
        Assert.Contains("Core", manifest.CompatiblePSEditions);
        Assert.Equal(Cmdlets.Order(), manifest.ExportedCmdlets.Keys.Order());
        Assert.Empty(manifest.ExportedFunctions);
        Assert.Empty(manifest.ExportedAliases);
        var exported = ps.Run("Get-Command -Module MicroGpt | ForEach-Object Name").Output.Select(o => o.ToString());
        Assert.Equal(Cmdlets.Order(), exported.Order());
    }

    [Fact]
    public void EveryCmdletDeclaresItsOutputType()
    {
        using var ps = new PowerShellSession();
        foreach (string cmdlet in Cmdlets)
            Assert.NotEmpty(ps.Run($"(Get-Command {cmdlet}).OutputType").Output);
    }

    [Fact]
    public void EveryCmdletHasASynopsisADescriptionAndAtLeastTwoExamples()
    {
        using var ps = new PowerShellSession();
        foreach (string cmdlet in Cmdlets)
        {
            var help = Assert.Single(ps.Run($"Get-Help {cmdlet} -Full").Output);
            string synopsis = help.Properties["Synopsis"].Value?.ToString() ?? "";
            Assert.False(string.IsNullOrWhiteSpace(synopsis) || synopsis.StartsWith(cmdlet), $"{cmdlet} has no synopsis");
            var examples = ps.Run($"(Get-Help {cmdlet} -Examples).examples.example").Output;
            Assert.True(examples.Count >= 2, $"{cmdlet} has {examples.Count} examples");
            var parameters = ps.Run($"(Get-Help {cmdlet} -Full).parameters.parameter | ForEach-Object name").Output.Select(o => o.ToString()).ToHashSet();
            var declared = ps.Run($"(Get-Command {cmdlet}).Parameters.Keys").Output.Select(o => o.ToString())
                .Where(p => !Cmdlet.CommonParameters.Contains(p) && !Cmdlet.OptionalCommonParameters.Contains(p) || p is "WhatIf" or "Confirm");
            Assert.All(declared, p => Assert.True(parameters.Contains(p), $"{cmdlet} -{p} is not in its help"));
        }
        string about = Assert.Single(ps.Run("Get-Help about_MicroGpt").Output).ToString();
        foreach (string topic in new[] { "about_MicroGpt", "Invoke-Training", "safetensors", "-Resume", "formatVersion", "ThreadCount" })
            Assert.Contains(topic, about);
    }

    [Theory]
    [InlineData("New-Tokenizer -Kind ", "Character", "Word")]
    [InlineData("Save-Model -Format ", "Json", "Safetensors")]
    public void EnumeratedValuesTabComplete(string line, params string[] expected)
    {
        using var ps = new PowerShellSession();
        var completions = ps.Run($"(TabExpansion2 -inputScript '{line}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText").Output.Select(o => o.ToString());
        Assert.Equal(expected, completions.Order());
    }

    /// <summary>
    /// "Invoke-Training -" then Tab offers every parameter, the common ones too: one parameter marked
    /// DontShow (in any parameter set) makes PowerShell hide it and every common parameter from
    /// completion, which once hid Invoke-Training's -Model, -Verbose and -ErrorAction.
    /// </summary>
    [Fact]
    public void EveryParameterTabCompletes()
    {
        using var ps = new PowerShellSession();
        foreach (string cmdlet in Cmdlets)
        {
            string line = $"{cmdlet} -";
            var completions = ps.Run($"(TabExpansion2 -inputScript '{line}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText").Output.Select(o => o.ToString()).ToHashSet();
            var parameters = ps.Run($"(Get-Command {cmdlet}).Parameters.Keys").Output.Select(o => $"-{o}");
            Assert.All(parameters, p => Assert.True(completions.Contains(p), $"{cmdlet} {p} does not tab-complete"));
        }
    }

    [Fact]
    public void EveryPesterFileParses()
    {
        var files = Directory.GetFiles(Path.Combine(PowerShellSession.RepoRoot, "tests", "Pester"), "*.Tests.ps1");
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            Parser.ParseFile(file, out _, out var errors);
            Assert.True(errors.Length == 0, $"{Path.GetFileName(file)}: {string.Join("; ", errors.Select(e => $"line {e.Extent.StartLineNumber}: {e.Message}"))}");
        }
    }

    [Fact]
    public void BuildScriptParses()
    {
        Parser.ParseFile(Path.Combine(PowerShellSession.RepoRoot, "build.ps1"), out _, out var errors);
        Assert.Empty(errors);
    }
}
