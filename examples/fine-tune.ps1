<#
.SYNOPSIS
Fine-tuning: a model trained on statements learns to ask questions.

.DESCRIPTION
Trains the tutorial's model on the default corpus (statements, a few questions), shows what it
generates, then trains it further on the question corpus that ships with the module
(data/questions.txt: 1,500 grade-1 questions over the same words) at a low learning rate, and
shows the samples again. Measure-Model shows the price: the loss on questions falls, the loss on
the statements rises a little (catastrophic forgetting, in miniature).

.EXAMPLE
./examples/fine-tune.ps1
./examples/fine-tune.ps1 -FineTuneSteps 2000 -LearningRate 0.002
#>
param(
    [int] $PretrainSteps = 5000,
    [int] $FineTuneSteps = 1000,
    [double] $LearningRate = 0.001
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt')
$questions = Join-Path (Get-Module MicroGpt).ModuleBase 'data/questions.txt'

function Show-Samples([string] $Stage) {
    "Samples $Stage fine-tuning:"
    Invoke-Generation -Model $model -Count 8 -Temperature 0.7 -Seed 3 | ForEach-Object { '  ' + $_.Text }
}

function Get-Losses([string] $Stage) {
    [pscustomobject]@{
        Stage         = $Stage
        QuestionLoss  = [Math]::Round(($model | Measure-Model -Path $questions).Loss, 3)
        StatementLoss = [Math]::Round(($model | Measure-Model).Loss, 3)
    }
}

$model = Invoke-Training -Steps $PretrainSteps -PassThru
Show-Samples 'before'
$before = Get-Losses 'before'

Invoke-Training -Model $model -Path $questions -Steps $FineTuneSteps -LearningRate $LearningRate -LogInterval $FineTuneSteps |
    ForEach-Object { "Fine-tuned $($_.Step) steps on questions at learning rate $LearningRate." }
Show-Samples 'after'
$after = Get-Losses 'after'

$before, $after
$model | Save-Model -Path question-model.json
