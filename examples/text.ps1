<#
.SYNOPSIS
A character-level model of any text, trained in stream mode the way nanoGPT's CPU quick start trains one.

.DESCRIPTION
Reads a text file exactly as it is (line ends, punctuation and all) as one stream of characters,
learns its characters, and trains a GPT of nanoGPT's quick-start shape on windows of it:
embedding 128, 4 layers, 4 heads, block 64, batches of 12 windows, AdamW (beta1 0.9, beta2 0.99,
weight decay 0.1), learning rate 1e-3 warming up over 100 steps then falling on a cosine to 1e-4 at
the last step, gradients clipped to a global norm of 1.0, and the last tenth of the text held out
for validation, each measured on at most 240 windows of it (nanoGPT's 20 batches of 12). (A run
shorter than 2,000 steps warms up over the same share, a twentieth of its steps.) Then it continues
the text from a prompt. The default text is about_MicroGpt.help.txt, the help that ships with the
module: 42 kB of English.

.EXAMPLE
./examples/text.ps1
./examples/text.ps1 -Path ./shakespeare.txt -Prompt 'ROMEO:' -Steps 2000
./examples/text.ps1 -Steps 20 -MaxTokens 50
#>
param(
    [string] $Path,
    [int] $Steps = 2000,
    [string] $Prompt = "`n",
    [int] $MaxTokens = 500,
    [double] $Temperature = 0.8
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt')
if (-not $Path) { $Path = Join-Path (Get-Module MicroGpt).ModuleBase 'en-US/about_MicroGpt.help.txt' }

$tokenizer = New-Tokenizer -Path $Path -Stream
"Vocabulary: $($tokenizer.VocabSize) tokens (the text's characters and BOS)"
$model = New-Model -Tokenizer $tokenizer -EmbeddingSize 128 -Layers 4 -Heads 4 -BlockSize 64 -Seed 1337
"Model: $($model.ParameterCount.ToString('N0')) parameters"
$quickStart = @{
    BatchSize = 12; LearningRate = 1e-3; Beta1 = 0.9; Beta2 = 0.99; WeightDecay = 0.1; GradientClip = 1.0
    Schedule = 'Cosine'; MinLearningRate = 1e-4; WarmupSteps = [Math]::Min(100, [int]($Steps / 20))
    ValidationFraction = 0.1; ValidationExamples = 240; LogInterval = [Math]::Max(1, [int]($Steps / 10))
}
Invoke-Training -Model $model -Path $Path -Stream -Steps $Steps @quickStart |
    ForEach-Object { 'step {0,5}: loss {1:F3}{2}, {3:N0} tokens/s' -f $_.Step, $_.Loss, ($_.ValidationLoss ? (', validation {0:F3}' -f $_.ValidationLoss) : ''), $_.TokensPerSecond }

"Loss over the whole text: {0:F3} per character" -f (Measure-Model -Model $model -Path $Path -Stream).Loss
''
(Invoke-Generation -Model $model -Prompt $Prompt -MaxTokens $MaxTokens -Temperature $Temperature -Seed 7).Text
