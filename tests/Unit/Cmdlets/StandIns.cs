namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// Stand-ins for the Utility and Management cmdlets that the bare PowerShell engine lacks but that
/// examples use (Export-Csv, Select-Object, Import-Csv, Get-ChildItem...). Each does the least an
/// example needs, and checks what the real one depends on: Export-Csv refuses objects that are not
/// flat (a property that is not a string, a number, a bool or empty), since the real Export-Csv
/// would write their type names instead of values. Select-Object -First cannot stop the commands
/// before it, as the real one does (that takes an internal exception): they run to their end.
/// </summary>
static class StandIns
{
    public const string Script = """
        function Export-Csv {
            param([Parameter(ValueFromPipeline)] $InputObject, [Parameter(Position = 0)] [string] $Path, [switch] $NoTypeInformation, [switch] $Append)
            begin { $rows = [Collections.Generic.List[object]]::new() }
            process { $rows.Add($InputObject) }
            end {
                $names = @($rows[0].PSObject.Properties.Name)
                $lines = [Collections.Generic.List[string]]::new()
                $file = [IO.Path]::Combine($PWD.Path, $Path)
                if (-not ($Append -and [IO.File]::Exists($file))) { $lines.Add(($names | ForEach-Object { '"' + $_ + '"' }) -join ',') }
                foreach ($row in $rows) {
                    $cells = foreach ($name in $names) {
                        $value = $row.$name
                        if ($null -ne $value -and $value -isnot [string] -and $value -isnot [ValueType]) { throw "Export-Csv: property $name is a $($value.GetType().Name), not a flat value" }
                        '"' + [Convert]::ToString($value, [Globalization.CultureInfo]::InvariantCulture) + '"'
                    }
                    $lines.Add($cells -join ',')
                }
                if ($Append) { [IO.File]::AppendAllLines($file, $lines) } else { [IO.File]::WriteAllLines($file, $lines) }
            }
        }
        function Import-Csv {
            param([Parameter(Position = 0)] [string] $Path)
            $lines = [IO.File]::ReadAllLines([IO.Path]::Combine($PWD.Path, $Path))
            $names = $lines[0].Split(',').Trim('"')
            foreach ($line in $lines[1..($lines.Count - 1)]) {
                $cells = $line.Split(',').Trim('"'); $row = [ordered]@{}
                for ($i = 0; $i -lt $names.Count; $i++) { $row[$names[$i]] = $cells[$i] }
                [pscustomobject]$row
            }
        }
        function Select-Object {
            param([Parameter(ValueFromPipeline)] $InputObject, [int] $First = -1, [int] $Last = -1, [int] $Skip = 0, [Parameter(Position = 0)] [string[]] $Property, [string] $ExpandProperty)
            begin { $all = [Collections.Generic.List[object]]::new() }
            process { $all.Add($InputObject) }
            end {
                $items = @($all | Where-Object { $true })[$Skip..($all.Count)]
                if ($First -ge 0) { $items = @($items)[0..($First - 1)] }
                if ($Last -ge 0) { $items = @($items)[(-[Math]::Min($Last, @($items).Count))..-1] }
                foreach ($item in $items) {
                    if ($null -eq $item) { continue }
                    if ($ExpandProperty) { $item.$ExpandProperty }
                    elseif ($Property) { $row = [ordered]@{}; foreach ($p in $Property) { $row[$p] = $item.$p }; [pscustomobject]$row }
                    else { $item }
                }
            }
        }
        function Get-ChildItem {
            param([Parameter(Position = 0)] [string] $Path = '*', [string] $Filter)
            foreach ($file in [IO.DirectoryInfo]::new($PWD.Path).GetFiles($(if ($Filter) { $Filter } else { [IO.Path]::GetFileName($Path) }))) {
                $item = [psobject]::new($file)
                $item.PSObject.Properties.Add([psnoteproperty]::new('PSPath', "Microsoft.PowerShell.Core\FileSystem::$($file.FullName)"))
                $item
            }
        }
        function Get-Content { param([Parameter(Position = 0)] [string] $Path) [IO.File]::ReadAllLines([IO.Path]::Combine($PWD.Path, $Path)) }
        function Set-Content { param([Parameter(Position = 0)] [string] $Path, [Parameter(ValueFromPipeline)] [string[]] $Value) begin { $all = @() } process { $all += $Value } end { [IO.File]::WriteAllLines([IO.Path]::Combine($PWD.Path, $Path), [string[]]$all) } }
        function Test-Path { param([Parameter(Position = 0)] [string] $Path) [IO.File]::Exists([IO.Path]::Combine($PWD.Path, $Path)) -or [IO.Directory]::Exists([IO.Path]::Combine($PWD.Path, $Path)) }
        function Sort-Object {
            param([Parameter(Position = 0)] [string] $Property, [Parameter(ValueFromPipeline)] $InputObject, [switch] $Descending)
            begin { $all = [Collections.Generic.List[object]]::new() }
            process { $all.Add($InputObject) }
            end {
                $keys = [double[]]@($all | ForEach-Object { $_.$Property })
                $items = $all.ToArray()
                [Array]::Sort($keys, $items)
                if ($Descending) { [Array]::Reverse($items) }
                $items
            }
        }
        function Join-Path { param([Parameter(Position = 0)] [string] $Path, [Parameter(Position = 1)] [string] $ChildPath) [IO.Path]::Combine($Path, $ChildPath) }
        function Get-Date { param([string] $Format) if ($Format) { [DateTime]::Now.ToString($Format, [Globalization.CultureInfo]::InvariantCulture) } else { [DateTime]::Now } }
        function Remove-Item { param([Parameter(Position = 0)] [string] $Path) [IO.File]::Delete([IO.Path]::Combine($PWD.Path, $Path)) }
        function Format-Table { param([Parameter(ValueFromPipeline)] $InputObject) process { $InputObject } }
        function Write-Host { param([Parameter(Position = 0, ValueFromRemainingArguments)] $Object) }
        """;
}
