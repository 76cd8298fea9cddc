<#
.SYNOPSIS
A hyperparameter sweep: learning rate x model size, one CSV row per finished run, best by validation loss.

.DESCRIPTION
Trains one model per combination of -LearningRate and -EmbeddingSize on the default corpus,
holding out 5% of it for validation. Each finished run appends its row to -OutFile at once, so
an interrupted sweep keeps what it has done. At the end the runs are listed best first and the
best one is saved to best-model.json.

.EXAMPLE
./examples/sweep.ps1
./examples/sweep.ps1 -Steps 5000 -LearningRate 0.003, 0.01 -EmbeddingSize 32, 64 -OutFile big-sweep.csv
#>
param(
    [int] $Steps = 2000,
    [double[]] $LearningRate = @(0.003, 0.01, 0.03),
    [int[]] $EmbeddingSize = @(16, 32, 64),
    [string] $OutFile = 'sweep.csv'
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt')

$best = $null
$runs = foreach ($size in $EmbeddingSize) {
    foreach ($lr in $LearningRate) {
        $model = New-Model -EmbeddingSize $size -Seed 1
        # Only the last row matters here: -LogInterval $Steps writes it (and the validation rows).
        $last = Invoke-Training -Model $model -Steps $Steps -LearningRate $lr -ValidationFraction 0.05 -LogInterval $Steps |
            Select-Object -Last 1
        $run = [pscustomobject]@{
            EmbeddingSize  = $size
            LearningRate   = $lr
            Parameters     = $model.ParameterCount
            TrainLoss      = [Math]::Round($last.Loss, 4)
            ValidationLoss = [Math]::Round($last.ValidationLoss, 4)
            Seconds        = [Math]::Round($last.ElapsedSeconds, 2)
        }
        $run | Export-Csv -Path $OutFile -Append -NoTypeInformation
        if ($null -eq $best -or $run.ValidationLoss -lt $best.Run.ValidationLoss) { $best = @{ Run = $run; Model = $model } }
        $run
    }
}

$runs | Sort-Object ValidationLoss | Format-Table
$best.Model | Save-Model -Path best-model.json
"Best: embedding $($best.Run.EmbeddingSize), learning rate $($best.Run.LearningRate), validation loss $($best.Run.ValidationLoss) (saved to best-model.json)"
