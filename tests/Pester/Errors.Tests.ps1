#Requires -Version 7.4
# DESIGN.md, "Bad input gets a clear error and changes nothing": one test per bad input, each
# asserting the error id (ErrorIds.cs, raised as '<Id>,MicroGpt.Commands.<CommandClass>'), that the
# message names the offending value, and that no model or file changed.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    function Test-SameWeights([float[]] $Expected, [float[]] $Actual) {
        [System.Linq.Enumerable]::SequenceEqual($Expected, $Actual)
    }

    $corpus = 'the cat sat', 'the dog ran'
    $tokenizer = New-Tokenizer -Text $corpus

    # A model small enough that every test can make its own.
    function New-SmallModel([int] $Seed = 1) {
        New-Model -Tokenizer $tokenizer -EmbeddingSize 8 -Heads 2 -Layers 1 -BlockSize 8 -Seed $Seed
    }
}

Describe 'Bad input' {
    Context 'unknown words' {
        It 'Invoke-Training names an unknown word of -Text and its line, and leaves the model as it was' {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Text 'the cat sat', 'the zebra ran' -Steps 5 } |
                Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -BeLike "*'zebra'*"
            $err.Exception.Message | Should -BeLike '*Line 2*'
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
            $model.Steps | Should -Be 0
        }

        It 'Invoke-Training names an unknown word of a -Path file, its line and the file' {
            $file = Join-Path $TestDrive 'unknown-word.txt'
            Set-Content -Path $file -Value 'the cat sat', '', 'the zebra ran'
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Path $file -Steps 5 } |
                Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*'zebra'*"
            $err.Exception.Message | Should -BeLike '*Line 3*'
            $err.Exception.Message | Should -BeLike '*unknown-word.txt*'
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        }

        It 'Invoke-Generation names an unknown word of -Prompt and writes no sample' {
            $model = New-SmallModel
            $err = { Invoke-Generation -Model $model -Prompt 'the zebra' -Seed 1 } |
                Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.InvokeGenerationCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*'zebra'*"
        }

        It 'Measure-Model names an unknown word of -Text' {
            $model = New-SmallModel
            $err = { Measure-Model -Model $model -Text 'the zebra sat' } |
                Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.MeasureModelCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*'zebra'*"
        }

        It 'Get-Tokens names an unknown word and still encodes the other texts' {
            $result = 'the cat sat', 'the zebra sat', 'the dog ran' | Get-Tokens -Tokenizer $tokenizer -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -HaveCount 2
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'UnknownToken,MicroGpt.Commands.GetTokensCommand'
            $err[0].Exception.Message | Should -BeLike "*'zebra'*"
        }
    }

    Context 'empty corpus' {
        BeforeAll {
            $blank = Join-Path $TestDrive 'blank.txt'
            Set-Content -Path $blank -Value '', '   ', ''
        }

        It 'Invoke-Training refuses -Text with only blank lines, and leaves the model as it was' {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Text '   ', "`t" -Steps 5 } |
                Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -BeLike '*blank*'
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        }

        It 'Invoke-Training refuses an empty -Path file and names it' {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Path $blank -Steps 5 } |
                Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*blank.txt*'
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        }

        It 'New-Tokenizer refuses an empty -Path file and names it' {
            $err = { New-Tokenizer -Path $blank } |
                Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.NewTokenizerCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*blank.txt*'
        }

        It 'Invoke-Training names a corpus file that does not exist' {
            $missing = Join-Path $TestDrive 'no-such-corpus.txt'
            $err = { Invoke-Training -Model (New-SmallModel) -Path $missing -Steps 5 } |
                Should -Throw -ErrorId 'CorpusNotFound,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.Exception.Message | Should -BeLike '*no-such-corpus.txt*'
        }
    }

    Context 'sizes that do not fit' {
        It 'New-Model refuses an embedding size not divisible by the heads' {
            $err = { New-Model -EmbeddingSize 30 -Heads 4 } |
                Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewModelCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*30*'
        }

        It '<Command> rejects -<Parameter> <Value>' -TestCases @(
            @{ Command = 'New-Model'; Class = 'NewModelCommand'; Parameter = 'Layers'; Value = 0 }
            @{ Command = 'New-Model'; Class = 'NewModelCommand'; Parameter = 'EmbeddingSize'; Value = -8 }
            @{ Command = 'New-Model'; Class = 'NewModelCommand'; Parameter = 'Heads'; Value = 0 }
            @{ Command = 'New-Model'; Class = 'NewModelCommand'; Parameter = 'BlockSize'; Value = -1 }
            @{ Command = 'Invoke-Training'; Class = 'InvokeTrainingCommand'; Parameter = 'Steps'; Value = 0 }
            @{ Command = 'Invoke-Training'; Class = 'InvokeTrainingCommand'; Parameter = 'BatchSize'; Value = -2 }
            @{ Command = 'Invoke-Generation'; Class = 'InvokeGenerationCommand'; Parameter = 'Count'; Value = 0 }
        ) {
            $arguments = @{ $Parameter = $Value }
            $err = { & $Command @arguments } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,MicroGpt.Commands.$Class" -PassThru
            $err.Exception.Message | Should -BeLike "*'$Parameter'*"
            $err.Exception.Message | Should -BeLike "*$Value*"
        }

        It 'New-Model refuses a model too large for memory: -EmbeddingSize <EmbeddingSize> -Layers <Layers>' -TestCases @(
            @{ EmbeddingSize = 65536; Layers = 1024 }
            @{ EmbeddingSize = 16384; Layers = 4 }
        ) {
            $err = { New-Model -EmbeddingSize $EmbeddingSize -Layers $Layers -Heads 1 } |
                Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewModelCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*$EmbeddingSize*"
        }

        It 'Invoke-Generation refuses a -Prompt that fills the block size' {
            $model = New-SmallModel
            $prompt = 'the cat sat the cat sat the cat'
            $err = { Invoke-Generation -Model $model -Prompt $prompt -Seed 1 } |
                Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeGenerationCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*8*'
        }

        It 'Invoke-Training refuses a -ValidationFraction that leaves nothing to train on' {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Text 'the cat sat' -Steps 5 -ValidationFraction 0.5 } |
                Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*0.5*'
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        }
    }

    Context 'learning rates and betas out of range' {
        It 'Invoke-Training refuses -<Parameter> <Value> with <Id>, and leaves the model as it was' -TestCases @(
            @{ Parameter = 'LearningRate'; Value = 0; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'LearningRate'; Value = 1.5; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'LearningRate'; Value = -0.01; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'Beta1'; Value = 1; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'Beta1'; Value = -0.5; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'Beta2'; Value = 1; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'Beta2'; Value = 1.5; Id = 'ParameterArgumentValidationError' }
            @{ Parameter = 'Epsilon'; Value = 0; Id = 'ParameterArgumentValidationError' }
        ) {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $arguments = @{ $Parameter = $Value }
            $err = { Invoke-Training -Model $model -Text $corpus -Steps 5 @arguments } |
                Should -Throw -ErrorId "$Id,MicroGpt.Commands.InvokeTrainingCommand" -PassThru
            $err.Exception.Message | Should -BeLike "*$Value*"
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
            $model.Steps | Should -Be 0
        }

        It 'Invoke-Training leaves an existing -LogPath file as it was when it refuses a learning rate' {
            $log = Join-Path $TestDrive 'kept.csv'
            Set-Content -Path $log -Value 'the log of an earlier run'
            $before = Get-FileHash -Path $log
            { Invoke-Training -Model (New-SmallModel) -Text $corpus -Steps 5 -LearningRate 0 -LogPath $log } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,MicroGpt.Commands.InvokeTrainingCommand'
            (Get-FileHash -Path $log).Hash | Should -Be $before.Hash
        }

        It 'Invoke-Training accepts the closed ends: -<Parameter> <Value>' -TestCases @(
            @{ Parameter = 'LearningRate'; Value = 1 }
            @{ Parameter = 'Beta1'; Value = 0 }
            @{ Parameter = 'Beta2'; Value = 0 }
            @{ Parameter = 'Epsilon'; Value = 1 }
        ) {
            $arguments = @{ $Parameter = $Value }
            $steps = Invoke-Training -Model (New-SmallModel) -Text $corpus -Steps 2 @arguments
            $steps.Step | Should -Be 1, 2
        }
    }

    Context 'a loss that is not finite' {
        BeforeAll {
            # An infinite embedding row for a word that only the third sentence has (with -NoShuffle,
            # steps 1 and 2 would be finite and step 3 NaN): a model that holds it is refused before any step.
            $divergingCorpus = 'the cat sat', 'the dog ran', 'a zebra ran'
            $divergingTokenizer = New-Tokenizer -Text $divergingCorpus
            function New-DivergingModel {
                $model = New-Model -Tokenizer $divergingTokenizer -EmbeddingSize 8 -Heads 2 -Layers 1 -BlockSize 8
                $row = [System.Array]::IndexOf([string[]]$divergingTokenizer.Vocabulary, 'zebra') * 8 # Wte is the first (V, C) block
                $weights = $model.GetWeights()
                for ($i = 0; $i -lt 8; $i++) {
                    $weights[$row + $i] = [float]::PositiveInfinity
                }
                $model.SetWeights($weights)
                $model
            }
        }

        It 'Invoke-Training refuses a model with an infinite weight before any step, and changes nothing' {
            $model = New-DivergingModel
            $before = $model.GetWeights()
            $log = Join-Path $TestDrive 'not-started.csv'
            $err = { Invoke-Training -Model $model -Text $divergingCorpus -Steps 5 -NoShuffle -LogPath $log } |
                Should -Throw -ErrorId 'ModelNotFinite,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -BeLike '*wte`[*`] is Infinity*'
            $model.Steps | Should -Be 0
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
            $log | Should -Not -Exist
        }

        It 'Invoke-Training stops, says at which step, and keeps the last good weights' {
            # Finite weights whose logits overflow: the output head's first row at the largest float.
            $model = New-Model -Tokenizer $divergingTokenizer -EmbeddingSize 8 -Heads 2 -Layers 1 -BlockSize 8
            $weights = $model.GetWeights()
            $head = ($model.VocabSize + $model.BlockSize) * $model.EmbeddingSize # the output head follows the two embeddings
            for ($i = 0; $i -lt 8; $i++) { $weights[$head + $i] = [float]::MaxValue }
            $model.SetWeights($weights)
            $log = Join-Path $TestDrive 'diverged.csv'
            $err = { Invoke-Training -Model $model -Text $divergingCorpus -Steps 5 -NoShuffle -LogPath $log } |
                Should -Throw -ErrorId 'TrainingDiverged,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidResult'
            $err.Exception.Message | Should -BeLike '*step 1*keeps the weights of step 0*'
            $model.Steps | Should -Be 0
            Test-SameWeights $weights $model.GetWeights() | Should -BeTrue
            Import-Csv -Path $log | Should -BeNullOrEmpty -Because 'no step completed'
        }
    }

    Context 'missing, corrupt, truncated and wrong-shape model files' {
        BeforeAll {
            $good = Join-Path $TestDrive 'good.json'
            New-SmallModel | Save-Model -Path $good
            $goodText = Get-Content -Path $good -Raw
        }

        It 'Import-Model reports a missing file as ModelFileNotFound and writes no model' {
            $missing = Join-Path $TestDrive 'missing.json'
            $result = Import-Model -Path $missing -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'ModelFileNotFound,MicroGpt.Commands.ImportModelCommand'
            $err[0].Exception.Message | Should -BeLike '*missing.json*'
            $missing | Should -Not -Exist
        }

        It 'Invoke-Training -Resume reports a missing checkpoint as ModelFileNotFound' {
            $err = { Invoke-Training -Resume (Join-Path $TestDrive 'missing-checkpoint.json') } |
                Should -Throw -ErrorId 'ModelFileNotFound,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*missing-checkpoint.json*'
        }

        It 'Import-Model reports a <Case> file as ModelFileCorrupt, writes no model, and leaves the file as it was' -TestCases @(
            @{ Case = 'corrupt'; Corrupt = { param($text) 'not a model {' } }
            @{ Case = 'truncated'; Corrupt = { param($text) $text.Substring(0, $text.Length - 100) } }
            @{ Case = 'wrong-shape'; Corrupt = { param($text) $text.Replace('"nLayer":1', '"nLayer":2') } }
        ) {
            $bad = Join-Path $TestDrive "$Case.json"
            Set-Content -Path $bad -Value (& $Corrupt $goodText) -NoNewline
            $before = Get-FileHash -Path $bad
            $result = Import-Model -Path $bad -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ModelFileCorrupt,MicroGpt.Commands.ImportModelCommand'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $err[0].Exception.Message | Should -BeLike "*$Case.json*"
            (Get-FileHash -Path $bad).Hash | Should -Be $before.Hash
        }

        It 'Invoke-Training -Resume refuses a file without optimizer state' {
            $err = { Invoke-Training -Resume $good } |
                Should -Throw -ErrorId 'CheckpointMismatch,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*good.json*'
        }
    }

    Context 'a vocabulary that does not match the model' {
        BeforeAll {
            $small = New-SmallModel
            $saved = Join-Path $TestDrive 'with-vocabulary.json'
            $small | Save-Model -Path $saved
            # The tutorial's files: config and weights, no vocabulary.
            $json = Get-Content -Path $saved -Raw | ConvertFrom-Json
            $tutorialFile = Join-Path $TestDrive 'tutorial.json'
            [pscustomobject]@{ config = $json.config; weights = $json.weights } | ConvertTo-Json -Depth 5 -Compress | Set-Content -Path $tutorialFile
            $otherTokenizer = New-Tokenizer -Text 'a b c'
        }

        It 'Import-Model refuses a -Tokenizer of another size for a file without vocabulary, naming both sizes' {
            $result = Import-Model -Path $tutorialFile -Tokenizer $otherTokenizer -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'VocabularyMismatch,MicroGpt.Commands.ImportModelCommand'
            $err[0].Exception.Message | Should -BeLike "*$($small.VocabSize)*"
            $err[0].Exception.Message | Should -BeLike "*$($otherTokenizer.VocabSize)*"
        }

        It 'Import-Model refuses a -Tokenizer that differs from the file''s vocabulary' {
            $result = Import-Model -Path $saved -Tokenizer $otherTokenizer -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'VocabularyMismatch,MicroGpt.Commands.ImportModelCommand'
            $err[0].Exception.Message | Should -BeLike '*with-vocabulary.json*'
        }

        It 'Invoke-Training refuses a corpus with words outside the model''s vocabulary' {
            $before = $small.GetWeights()
            $err = { Invoke-Training -Model $small -Steps 5 } |
                Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*default corpus*'
            Test-SameWeights $before $small.GetWeights() | Should -BeTrue
        }
    }

    Context 'resuming with something else than the checkpoint''s run' {
        BeforeAll {
            $checkpoint = Join-Path $TestDrive 'checkpoint.json'
            $model = New-SmallModel
            $null = Invoke-Training -Model $model -Text $corpus -Steps 20 | Select-Object -First 5
            $model | Save-Model -Path $checkpoint -IncludeOptimizerState
            $before = Get-FileHash -Path $checkpoint
        }

        It 'Invoke-Training -Resume refuses other options, naming them, and leaves the checkpoint as it was' {
            $err = { Invoke-Training -Resume $checkpoint -Text $corpus -Steps 300 } |
                Should -Throw -ErrorId 'CheckpointMismatch,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*-Steps 300*'
            (Get-FileHash -Path $checkpoint).Hash | Should -Be $before.Hash
        }

        It 'Invoke-Training -Resume refuses another corpus, says how to pass the checkpoint''s, and leaves the checkpoint as it was' {
            $err = { Invoke-Training -Resume $checkpoint -Text 'the cat sat' } |
                Should -Throw -ErrorId 'CheckpointMismatch,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*trained on sentences given as text*-Text or on the pipeline*'
            (Get-FileHash -Path $checkpoint).Hash | Should -Be $before.Hash
        }

        It 'Invoke-Training -Resume without the corpus says the checkpoint''s corpus differs, not that a word is unknown' {
            $err = { Invoke-Training -Resume $checkpoint } |
                Should -Throw -ErrorId 'CheckpointMismatch,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*was trained on another corpus than the default corpus*'
            (Get-FileHash -Path $checkpoint).Hash | Should -Be $before.Hash
        }
    }

    Context 'unwritable paths' {
        BeforeAll {
            $missingFolder = Join-Path $TestDrive 'no-such-folder'
        }

        It 'Save-Model reports FileWriteFailed, names the path, and creates nothing' {
            $path = Join-Path $missingFolder 'model.json'
            $err = { New-SmallModel | Save-Model -Path $path } |
                Should -Throw -ErrorId 'FileWriteFailed,MicroGpt.Commands.SaveModelCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*no-such-folder*'
            $missingFolder | Should -Not -Exist
        }

        It 'Invoke-Training -LogPath reports FileWriteFailed before it trains' {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Text $corpus -Steps 5 -LogPath (Join-Path $missingFolder 'log.csv') } |
                Should -Throw -ErrorId 'FileWriteFailed,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*no-such-folder*'
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
            $missingFolder | Should -Not -Exist
        }

        It 'Invoke-Training -CheckpointPath reports FileWriteFailed before it trains' {
            $model = New-SmallModel
            $before = $model.GetWeights()
            $err = { Invoke-Training -Model $model -Text $corpus -Steps 20 -CheckpointPath (Join-Path $missingFolder 'checkpoint.json') -CheckpointInterval 10 } |
                Should -Throw -ErrorId 'FileWriteFailed,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*no-such-folder*'
            $model.Steps | Should -Be 0
            Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        }

        It 'Export-LossChart reports FileWriteFailed and creates nothing' {
            $steps = Invoke-Training -Model (New-SmallModel) -Text $corpus -Steps 5
            $err = { $steps | Export-LossChart -Path (Join-Path $missingFolder 'chart.svg') } |
                Should -Throw -ErrorId 'FileWriteFailed,MicroGpt.Commands.ExportLossChartCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*no-such-folder*'
            $missingFolder | Should -Not -Exist
        }

        It 'Save-Model refuses non-finite weights and leaves the existing file as it was' {
            $path = Join-Path $TestDrive 'finite.json'
            New-SmallModel | Save-Model -Path $path
            $before = Get-FileHash -Path $path
            $broken = New-SmallModel -Seed 2
            $weights = $broken.GetWeights()
            $weights[5] = [float]::NaN
            $broken.SetWeights($weights)
            $err = { $broken | Save-Model -Path $path } |
                Should -Throw -ErrorId 'ModelNotFinite,MicroGpt.Commands.SaveModelCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*NaN*'
            (Get-FileHash -Path $path).Hash | Should -Be $before.Hash
            Get-ChildItem -Path $TestDrive -Force -Filter '*.microgpt-tmp' | Should -BeNullOrEmpty
        }
    }

    Context 'other refusals' {
        It 'Invoke-Training refuses -Path and -Text together' {
            $err = { Invoke-Training -Model (New-SmallModel) -Path (Join-Path $TestDrive 'any.txt') -Text $corpus -Steps 5 } |
                Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*-Text*'
        }

        It 'Invoke-Training refuses a model that another run is training, and leaves it trainable' {
            $model = New-SmallModel
            # The second run starts while the first one, upstream, holds the model at step 1.
            $err = { Invoke-Training -Model $model -Text $corpus -Steps 10 | ForEach-Object { Invoke-Training -Model $model -Text $corpus -Steps 5 } } |
                Should -Throw -ErrorId 'ModelBusy,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceBusy'
            $model.Steps | Should -Be 1 -Because 'only the first run took a step'
            Invoke-Training -Model $model -Text $corpus -Steps 5 | Should -HaveCount 5
        }

        It 'Export-LossChart refuses an empty input' {
            { @() | Export-LossChart -Path (Join-Path $TestDrive 'empty.svg') } |
                Should -Throw -ErrorId 'InvalidChartData,MicroGpt.Commands.ExportLossChartCommand'
            Join-Path $TestDrive 'empty.svg' | Should -Not -Exist
        }

        It 'Export-LossChart reports rows without Step and Loss, and draws the others' {
            $rows = @(
                [pscustomobject]@{ Step = '1'; Loss = '6.5'; ValidationLoss = '' }
                [pscustomobject]@{ Name = 'not a step' }
                [pscustomobject]@{ Step = '2'; Loss = '6.1'; ValidationLoss = '' }
            )
            $chart = Join-Path $TestDrive 'partial.svg'
            $rows | Export-LossChart -Path $chart -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'InvalidChartData,MicroGpt.Commands.ExportLossChartCommand'
            $err[0].Exception.Message | Should -BeLike '*not a step*'
            $chart | Should -Exist
        }
    }
}
