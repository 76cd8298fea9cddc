<#
.SYNOPSIS
Times each inspection cmdlet on the tutorial's model inside one pwsh, beyond its start-up.

.DESCRIPTION
Imports the freshly built module, makes the tutorial's model (597 words, C 32, H 4, L 2, T 16) and
times each call: its first call in the process (with the JIT compilation a fresh pwsh pays) and the
median, fastest and slowest of the next -Runs calls, in wall time and in the process's CPU time (on
a shared host, the CPU time is what the call costs; the wall time adds the waits for a core).
Get-Tokens is called first, so that PowerShell's own first-command costs (binding, pipeline set-up)
fall on it and not on the first call measured. Output goes to Out-Null, so the console's
formatting is not counted. bench/RESULTS.md quotes it.

The module compiles the engine's hot paths on a background thread when it is imported; -NoWarmup
imports it with that skipped (MICROGPT_NO_WARMUP=1), to measure what a first call costs without it.

.EXAMPLE
dotnet pwsh -NoProfile -File bench/inspect.ps1
dotnet pwsh -NoProfile -File bench/inspect.ps1 -NoWarmup
#>
param([int] $Runs = 15, [switch] $NoWarmup)
$ErrorActionPreference = 'Stop'
# The warm-up starts at the process's first import: a session that has the module already measures nothing new.
if (Get-Module MicroGpt) { throw 'MicroGpt is already imported in this session: run this script in a fresh pwsh (dotnet pwsh -NoProfile -File bench/inspect.ps1).' }
$skipBefore = $env:MICROGPT_NO_WARMUP
$env:MICROGPT_NO_WARMUP = $NoWarmup ? '1' : $null
try { Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt') }
finally { $env:MICROGPT_NO_WARMUP = $skipBefore }
$model = New-Model
$svg = Join-Path ([IO.Path]::GetTempPath()) "microgpt-bench-$PID.svg"
$calls = [ordered]@{
    "Get-Tokens 'the cat' (PowerShell's first-command costs)"  = { Get-Tokens -Model $model -Text 'the cat' }
    "Get-Prediction -Prompt 'the cat'"                        = { Get-Prediction -Model $model -Prompt 'the cat' }
    "Get-Prediction 'the cat eats a cake' -Each"              = { Get-Prediction -Model $model -Prompt 'the cat eats a cake' -Each }
    "Get-Attention 'the cat eats a cake'"                     = { Get-Attention -Model $model -Text 'the cat eats a cake' }
    "Get-Attention 'the cat eats a cake' | Export-AttentionMap" = { Get-Attention -Model $model -Text 'the cat eats a cake' | Export-AttentionMap $svg }
    "Find-SimilarToken cat"                                   = { Find-SimilarToken -Model $model -Token cat }
}
function Measure-Call([scriptblock] $Call) {
    $process = [Diagnostics.Process]::GetCurrentProcess()
    $cpu = $process.TotalProcessorTime
    $wall = Measure-Command { & $Call | Out-Null }
    $process.Refresh()
    [pscustomobject]@{ Wall = $wall.TotalMilliseconds; Cpu = ($process.TotalProcessorTime - $cpu).TotalMilliseconds }
}
'| call | first call, wall (ms) | first call, CPU (ms) | median wall (ms) | median CPU (ms) | fastest wall | slowest wall |'
'| --- | ---: | ---: | ---: | ---: | ---: | ---: |'
try {
    foreach ($name in $calls.Keys) {
        $first = Measure-Call $calls[$name]
        $measured = 1..$Runs | ForEach-Object { Measure-Call $calls[$name] }
        $wall = $measured.Wall | Sort-Object
        $cpu = $measured.Cpu | Sort-Object
        '| {0} | {1:F1} | {2:F1} | {3:F1} | {4:F1} | {5:F1} | {6:F1} |' -f $name, $first.Wall, $first.Cpu, $wall[[int]($Runs / 2)], $cpu[[int]($Runs / 2)], $wall[0], $wall[-1]
    }
}
finally {
    Remove-Item $svg -ErrorAction SilentlyContinue
}
