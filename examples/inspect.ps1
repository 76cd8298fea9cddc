<#
.SYNOPSIS
Looks inside a model before and after training: what it expects next, where a sentence surprises
it, where its heads attend, and which words it embeds alike.

.DESCRIPTION
Makes the tutorial's model, and shows for it, untrained and then trained on the default corpus:
the five most likely words after a prompt (Get-Prediction), each word of a sentence with the
probability and rank the model gave it, most surprising first (Get-Prediction -Each), an
attention map of the sentence (Get-Attention | Export-AttentionMap, written to before.svg and
after.svg), and the nearest neighbours of a word among the token embeddings (Find-SimilarToken).

.EXAMPLE
./examples/inspect.ps1
./examples/inspect.ps1 -Sentence 'the dog likes the ball' -Word dog -Folder ./maps
#>
param(
    [int] $Steps = 5000,
    [string] $Prompt = 'the cat',
    [string] $Sentence = 'the cat eats a cake',
    [string] $Word = 'cat',
    [string] $Folder = '.'
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt')

function Show-Inside([MicroGpt.Model] $Model, [string] $When) {
    "== $When =="
    "The five most likely words after '$Prompt':"
    Get-Prediction -Model $Model -Prompt $Prompt -Top 5 | Out-String
    $surprises = Get-Prediction -Model $Model -Prompt $Sentence -Each
    "Loss of '$Sentence': {0:F3} (the mean of -LogProbability over its words and its end)" -f ($surprises | Measure-Object { -$_.LogProbability } -Average).Average
    $surprises | Sort-Object Probability | Out-String
    $map = Join-Path $Folder "$($When.Split(' ')[0].ToLowerInvariant()).svg"
    Get-Attention -Model $Model -Text $Sentence | Export-AttentionMap $map -Title "Attention over '$Sentence', $When"
    "Attention map: $map"
    "Nearest to '$Word': " + ((Find-SimilarToken -Model $Model -Token $Word -Count 5 | ForEach-Object { '{0} ({1:F2})' -f $_.Token, $_.Similarity }) -join ', ')
    ''
}

$model = New-Model -Seed 1
Show-Inside $model 'Before training'
Invoke-Training -Model $model -Steps $Steps | Select-Object -Last 1 | ForEach-Object { "Trained $($_.Step) steps: loss {0:F3}" -f $_.Loss }
Show-Inside $model "After $Steps steps"
