<#
.SYNOPSIS
A character-level model that invents names.

.DESCRIPTION
Builds a character tokenizer over the 4,000 names that ship with the module (data/names.txt,
made up from syllables by tools/CorpusGenerator), trains a small GPT on them one name per step,
and samples new ones, leaving out any that are already in the list.

.EXAMPLE
./examples/names.ps1
./examples/names.ps1 -Steps 8000 -Temperature 0.5
#>
param(
    [int] $Steps = 4000,
    [double] $Temperature = 0.6
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt')
$names = Join-Path (Get-Module MicroGpt).ModuleBase 'data/names.txt'

$tokenizer = New-Tokenizer -Path $names -Kind Character
"Vocabulary: $($tokenizer.VocabSize) tokens ($($tokenizer.Vocabulary -join '') and BOS)"
# Names have at most 10 letters, so 12 positions hold a name and its BOS marks.
$model = New-Model -Tokenizer $tokenizer -EmbeddingSize 32 -Heads 4 -Layers 2 -BlockSize 12
Invoke-Training -Model $model -Path $names -Steps $Steps -LogInterval ($Steps / 4) |
    ForEach-Object { 'step {0,5}: loss {1:F3}' -f $_.Step, $_.Loss }

$known = [Collections.Generic.HashSet[string]]::new([IO.File]::ReadAllLines($names))
Invoke-Generation -Model $model -Count 40 -Temperature $Temperature -Unique -Seed 7 |
    Where-Object { -not $known.Contains($_.Text) } |
    Select-Object -First 12 |
    ForEach-Object { '  ' + $_.Text }
