namespace MicroGpt.Tests.Cmdlets;

/// <summary>Export-LossChart as users run it: from objects, from CSV files of any culture, with an axis of their choosing.</summary>
public class LossChartCmdletTests
{
    [Theory]
    [InlineData("de-DE", true)]
    [InlineData("fr-FR", true)]
    [InlineData("en-US", false)]
    public void CsvFilesChartAsTheirObjectsDoInTheCultureThatWroteThemAndFromTheInvariantLog(string culture, bool decimalComma)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run($"""
            [cultureinfo]::CurrentCulture = '{culture}'
            $steps = Invoke-Training -Steps 300 -ValidationFraction 0.05 -ValidationInterval 100 -LogPath log.csv
            $steps | Export-Csv local.csv
            $steps | Export-LossChart objects.svg
            Import-Csv local.csv | Export-LossChart local.svg
            Import-Csv log.csv | Export-LossChart log.svg
            """);
        result.ThrowIfFailed(); // no InvalidChartData: every row was read
        var loss = File.ReadAllLines(ps.PathOf("local.csv"))[1].Split("\",\"")[2];
        Assert.Equal(decimalComma, loss.Contains(','));
        string objects = File.ReadAllText(ps.PathOf("objects.svg"));
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(objects, "<circle").Count); // the validation losses were read too
        Assert.Equal(objects, File.ReadAllText(ps.PathOf("local.svg")));
        Assert.Equal(objects, File.ReadAllText(ps.PathOf("log.svg")));
    }

    [Fact]
    public void TheAxisCanBeSetOrMadeLogarithmicAndAnAxisThatCannotBeDrawnIsRefused()
    {
        using var ps = new PowerShellSession();
        ps.Run("""
            $steps = Invoke-Training -Steps 200
            $steps | Export-LossChart log.svg -YScale Log
            $steps | Export-LossChart zoom.svg -YMinimum 3 -YMaximum 5
            """).ThrowIfFailed();
        Assert.Contains("log scale", File.ReadAllText(ps.PathOf("log.svg")));
        Assert.Contains("drawn at the edges", File.ReadAllText(ps.PathOf("zoom.svg")));

        var refused = ps.Run("Invoke-Training -Steps 20 | Export-LossChart bad.svg -YMinimum 5 -YMaximum 3");
        Assert.Equal("InvalidConfiguration,MicroGpt.Commands.ExportLossChartCommand", refused.Error?.FullyQualifiedErrorId);
        Assert.Contains("YMaximum (3)", refused.Error!.Exception.Message);
        var log = ps.Run("Invoke-Training -Steps 20 | Export-LossChart bad.svg -YScale Log -YMinimum 0");
        Assert.Equal("InvalidConfiguration,MicroGpt.Commands.ExportLossChartCommand", log.Error?.FullyQualifiedErrorId);
        Assert.False(File.Exists(ps.PathOf("bad.svg")));
    }
}
