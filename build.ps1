<#
.SYNOPSIS
Builds, tests and benchmarks MicroGpt: a thin layer over the dotnet CLI, run with `dotnet pwsh`.

.DESCRIPTION
Run it as `dotnet tool restore && dotnet pwsh -NoProfile -File build.ps1 [Task...]`: the tool
manifest (.config/dotnet-tools.json) pins the PowerShell it runs in, and Pester comes from NuGet
(restored with the test project), so a machine with only the .NET SDK has everything. Tasks run in
the order given:
  Clean  removes bin/, obj/ and out/
  Build  builds everything; out/MicroGpt is then an importable module folder
  Test   runs the xunit tests (dotnet test), then the Pester tests in this pwsh; fails if either fails
  Bench  runs the benchmark (with the PyTorch peer when python3 has torch) and rewrites bench/RESULTS.md
  Package  builds the module in Release into out/package/MicroGpt and publishes it, with
           Publish-PSResource, to the folder repository out/packages: MicroGpt.<version>.nupkg

.EXAMPLE
dotnet pwsh -NoProfile -File build.ps1              # Build, then Test
dotnet pwsh -NoProfile -File build.ps1 Clean, Build
dotnet pwsh -NoProfile -File build.ps1 Bench
dotnet pwsh -NoProfile -File build.ps1 Package  # then: Install-PSResource MicroGpt -Repository <out/packages registered>
#>
[CmdletBinding()]
param(
    [ValidateSet('Clean', 'Build', 'Test', 'Bench', 'Package')]
    [string[]] $Task = @('Build', 'Test')
)

$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$solution = Join-Path $root 'MicroGpt.sln'
$results = Join-Path $root 'TestResults'

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

# The Pester module that the test project's PackageDownload restored into the NuGet packages folder.
function Get-PesterManifest {
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) { $packages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim() }
    $manifest = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $manifest)) { throw "Pester 5.7.1 is not in '$packages'; restore the tests first (dotnet build)." }
    $manifest
}

# Clean: removes build output (bin/, obj/, out/).
function Invoke-Clean {
    Get-ChildItem -Path $root -Directory -Recurse -Include bin, obj | Where-Object FullName -NotLike "$root/.git*" | Remove-Item -Recurse -Force
    Remove-Item -Path (Join-Path $root 'out') -Recurse -Force -ErrorAction SilentlyContinue
}

# Build: dotnet build, which also assembles out/MicroGpt.
function Invoke-Build { Invoke-Dotnet build $solution --nologo }

# Test: xunit through dotnet test, then Pester; both write results to TestResults/, both always run.
function Invoke-Test {
    Remove-Item -Path $results -Recurse -Force -ErrorAction SilentlyContinue
    & dotnet test $solution --nologo --logger 'trx;LogFileName=xunit.trx' --results-directory $results
    $xunitFailed = $LASTEXITCODE -ne 0

    Import-Module (Get-PesterManifest) -Force
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/Pester'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Normal'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = Join-Path $results 'pester.xml'
    $pester = Invoke-Pester -Configuration $config

    [Console]::WriteLine("Pester: $($pester.PassedCount) passed, $($pester.FailedCount) failed, $($pester.SkippedCount) skipped.")
    $failures = @(if ($xunitFailed) { 'xunit (dotnet test)' }) + @(if ($pester.Result -ne 'Passed') { "Pester ($($pester.FailedCount) failed)" })
    if ($failures) { throw "Tests failed: $($failures -join ' and ')." }
}

# Bench: the benchmark, in Release, writing bench/RESULTS.md.
function Invoke-Bench { Invoke-Dotnet run -c Release --project (Join-Path $root 'bench') -- --torch --write }

# Runs PowerShell code in a new pwsh whose home folder is $HomeFolder: PSResourceGet keeps its
# repositories and CurrentUser installs there, so the user's own are never touched.
function Invoke-IsolatedPwsh([string] $HomeFolder, [string] $Command) {
    $pwsh = [Environment]::ProcessPath
    $arguments = @('-NoProfile', '-NonInteractive', '-Command', $Command)
    if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $arguments = @(Join-Path $PSHOME 'pwsh.dll') + $arguments }
    $savedHome = $env:HOME
    try {
        $env:HOME = $HomeFolder
        & $pwsh @arguments
        if ($LASTEXITCODE -ne 0) { throw "pwsh failed with exit code $LASTEXITCODE." }
    } finally { $env:HOME = $savedHome }
}

# Package: the Release module in out/package/MicroGpt (out/MicroGpt is left as it is), published
# to the folder repository out/packages, which then holds MicroGpt.<version>.nupkg.
function Invoke-Package {
    $module = Join-Path $root 'out/package/MicroGpt'
    $repository = Join-Path $root 'out/packages'
    Remove-Item -Path $module -Recurse -Force -ErrorAction SilentlyContinue
    Invoke-Dotnet build (Join-Path $root 'src/MicroGpt.Cmdlets') -c Release --nologo "-p:ModuleFolder=$module/"
    $version = (Import-PowerShellDataFile (Join-Path $module 'MicroGpt.psd1')).ModuleVersion
    $package = Join-Path $repository "MicroGpt.$version.nupkg"
    New-Item -ItemType Directory -Path $repository -Force | Out-Null
    Remove-Item -Path $package -ErrorAction SilentlyContinue
    $scratch = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "microgpt-package-$([guid]::NewGuid().ToString('N'))")
    try {
        Invoke-IsolatedPwsh $scratch.FullName @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name MicroGptLocal -Uri '$repository' -Trusted
Publish-PSResource -Path '$module' -Repository MicroGptLocal
"@
    } finally { Remove-Item -Path $scratch -Recurse -Force }
    if (-not (Test-Path $package)) { throw "Publish-PSResource did not write '$package'." }
    [Console]::WriteLine("Wrote $package")
}

foreach ($name in $Task) {
    [Console]::WriteLine("== $name")
    & "Invoke-$name"
}
