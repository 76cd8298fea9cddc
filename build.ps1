<#
.SYNOPSIS
Builds, tests and benchmarks MicroGpt: a thin layer over the dotnet CLI.

.DESCRIPTION
Uses only the PowerShell language, .NET calls, core cmdlets and the dotnet CLI, so it runs in
any PowerShell 7.4+ and in a bare hosted engine. Tasks run in the order given:
  Clean  removes bin/, obj/ and out/
  Build  builds everything; out/MicroGpt is then an importable module folder
  Test   runs the tests (dotnet test), then the Pester tests when Pester 5 is installed
  Bench  runs the benchmark and rewrites bench/RESULTS.md

.EXAMPLE
./build.ps1                 # Build, then Test
./build.ps1 Clean, Build
./build.ps1 Bench
#>
[CmdletBinding()]
param(
    [ValidateSet('Clean', 'Build', 'Test', 'Bench')]
    [string[]] $Task = @('Build', 'Test')
)

$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

# Clean: removes build output (bin/, obj/, out/).
function Invoke-Clean {
    foreach ($folder in [IO.Directory]::EnumerateDirectories($root, '*', [IO.SearchOption]::AllDirectories)) {
        $name = [IO.Path]::GetFileName($folder)
        if (($name -eq 'bin' -or $name -eq 'obj') -and [IO.Directory]::Exists($folder)) { [IO.Directory]::Delete($folder, $true) }
    }
    $out = [IO.Path]::Combine($root, 'out')
    if ([IO.Directory]::Exists($out)) { [IO.Directory]::Delete($out, $true) }
}

# Build: dotnet build, which also assembles out/MicroGpt.
function Invoke-Build { Invoke-Dotnet build ([IO.Path]::Combine($root, 'MicroGpt.sln')) --nologo }

# Test: the README's test command, then Pester when it is installed.
function Invoke-Test {
    Invoke-Dotnet test ([IO.Path]::Combine($root, 'MicroGpt.sln')) --nologo
    if (Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version.Major -ge 5 }) {
        Import-Module Pester -MinimumVersion 5.0
        $result = Invoke-Pester -Path ([IO.Path]::Combine($root, 'tests', 'Pester')) -PassThru
        if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester tests failed." }
    } else {
        $PSCmdlet.WriteVerbose('Pester 5 is not installed: skipping tests/Pester (the same behaviour is tested by dotnet test).')
    }
}

# Bench: the benchmark, in Release, writing bench/RESULTS.md.
function Invoke-Bench { Invoke-Dotnet run -c Release --project ([IO.Path]::Combine($root, 'bench')) -- --write }

foreach ($name in $Task) {
    [Console]::WriteLine("== $name")
    & "Invoke-$name"
}
