#Requires -Version 7.4
# Invoke-Training: the TrainingStep stream, the CSV log, validation, -PassThru, threads,
# checkpoints and -Resume. Trainings are a few hundred steps on the default corpus, except
# where the behaviour needs more.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    # DESIGN.md: every TrainingStep has these properties, always, in this order.
    $stepColumns = 'Step', 'Steps', 'Loss', 'LearningRate', 'GradNorm', 'Tokens', 'TokensPerSecond', 'ElapsedSeconds', 'ValidationLoss'

    function Test-SameWeights([float[]] $Expected, [float[]] $Actual) {
        [System.Linq.Enumerable]::SequenceEqual($Expected, $Actual)
    }
}

Describe 'Invoke-Training' {
    Context 'the TrainingStep objects' {
        BeforeAll {
            $model = New-Model -Seed 1
            $steps = Invoke-Training -Model $model -Steps 200
        }

        It 'writes one MicroGpt.TrainingStep per step' {
            $steps | Should -HaveCount 200
            $steps | Should -BeOfType MicroGpt.TrainingStep
            $steps[0].PSObject.TypeNames[0] | Should -Be 'MicroGpt.TrainingStep'
        }

        It 'has exactly the documented properties' {
            $steps[0].PSObject.Properties.Name | Should -Be $stepColumns
        }

        It 'has flat, typed, scalar properties' {
            $step = $steps[-1]
            $step.Step | Should -BeOfType long
            $step.Steps | Should -BeOfType long
            $step.Tokens | Should -BeOfType long
            foreach ($name in 'Loss', 'LearningRate', 'GradNorm', 'TokensPerSecond', 'ElapsedSeconds') {
                $step.$name | Should -BeOfType double -Because "$name is a number Export-Csv writes as is"
            }
            $step.ValidationLoss | Should -BeNullOrEmpty -Because 'nothing was validated'
        }

        It 'numbers the steps 1 to -Steps' {
            $steps.Step | Should -Be (1..200)
            $steps.Steps | Select-Object -Unique | Should -Be 200
        }

        It 'decays the learning rate linearly from -LearningRate' {
            foreach ($step in $steps) {
                $step.LearningRate | Should -Be (0.01 * (1 - ($step.Step - 1) / 200))
            }
        }

        It 'counts tokens and time as it goes' {
            $steps[0].Tokens | Should -BeGreaterThan 0
            for ($i = 1; $i -lt $steps.Count; $i++) {
                $steps[$i].Tokens | Should -BeGreaterThan $steps[$i - 1].Tokens
                $steps[$i].ElapsedSeconds | Should -BeGreaterOrEqual $steps[$i - 1].ElapsedSeconds
            }
            $steps[-1].TokensPerSecond | Should -BeGreaterThan 0
            $steps | Where-Object { $_.GradNorm -le 0 -or [double]::IsNaN($_.Loss) } | Should -BeNullOrEmpty
        }

        It 'trains the model in place' {
            $model.Steps | Should -Be 200
            $model.Loss | Should -Be $steps[-1].Loss
        }

        It 'trains a model from the pipeline' {
            $piped = New-Model -Seed 1
            $before = $piped.GetWeights()
            $piped | Invoke-Training -Steps 10 | Should -HaveCount 10
            $piped.Steps | Should -Be 10
            Test-SameWeights $before $piped.GetWeights() | Should -BeFalse
        }

        It 'trains a default model on the default corpus when given nothing' {
            $default = Invoke-Training -Steps 20
            $default | Should -HaveCount 20
            $default[0].Loss | Should -BeGreaterThan 0
        }
    }

    Context '-LogInterval' {
        It 'writes every Nth step and the last one' {
            $steps = Invoke-Training -Model (New-Model -Seed 1) -Steps 23 -LogInterval 5
            $steps.Step | Should -Be 5, 10, 15, 20, 23
        }

        It 'also writes every step that has a validation loss' {
            $steps = Invoke-Training -Model (New-Model -Seed 1) -Steps 23 -LogInterval 5 -ValidationFraction 0.1 -ValidationInterval 7
            $steps.Step | Should -Be 5, 7, 10, 14, 15, 20, 21, 23
            ($steps | Where-Object { $null -ne $_.ValidationLoss }).Step | Should -Be 7, 14, 21, 23
        }
    }

    Context '-LogPath' {
        BeforeAll {
            $log = Join-Path $TestDrive 'run.csv'
            $steps = Invoke-Training -Model (New-Model -Seed 2) -Steps 60 -LogInterval 5 -ValidationFraction 0.1 -ValidationInterval 20 -LogPath $log
        }

        It 'writes a CSV file with the TrainingStep columns' {
            $log | Should -Exist
            $rows = Import-Csv -Path $log
            $rows[0].PSObject.Properties.Name | Should -Be $stepColumns
        }

        It 'writes the same rows as the objects' {
            $rows = Import-Csv -Path $log
            $rows | Should -HaveCount $steps.Count
            for ($i = 0; $i -lt $steps.Count; $i++) {
                foreach ($column in $stepColumns) {
                    if ($null -eq $steps[$i].$column) {
                        $rows[$i].$column | Should -BeNullOrEmpty -Because "row $i has no $column"
                    }
                    else {
                        [double]$rows[$i].$column | Should -Be ([double]$steps[$i].$column) -Because "row $i, $column, must round-trip"
                    }
                }
            }
        }

        It 'writes the header Export-Csv writes' {
            $exported = Join-Path $TestDrive 'exported.csv'
            $steps | Export-Csv -Path $exported
            Get-Content -Path $log -TotalCount 1 | Should -Be (Get-Content -Path $exported -TotalCount 1)
        }

        It 'writes numbers in the invariant culture whatever the current one' {
            $german = try { [cultureinfo]::GetCultureInfo('de-DE') } catch { $null }
            if ($null -eq $german -or $german.NumberFormat.NumberDecimalSeparator -ne ',') {
                Set-ItResult -Skipped -Because 'this machine has no de-DE culture (globalization-invariant mode)'
            }
            $germanLog = Join-Path $TestDrive 'de-DE.csv'
            $culture = [cultureinfo]::CurrentCulture
            try {
                [cultureinfo]::CurrentCulture = $german
                $null = Invoke-Training -Model (New-Model -Seed 2) -Steps 5 -LogPath $germanLog
            }
            finally {
                [cultureinfo]::CurrentCulture = $culture
            }
            Get-Content -Path $germanLog | Select-Object -Skip 1 | Should -Not -Match '\d,\d'
            (Import-Csv -Path $germanLog)[0].Loss | Should -Match '^\d+\.\d+$'
        }

        It 'flushes each row before the step reaches the pipeline' {
            $flushed = Join-Path $TestDrive 'flushed.csv'
            $linesSeen = Invoke-Training -Model (New-Model -Seed 2) -Steps 5 -LogPath $flushed |
                ForEach-Object { @(Get-Content -Path $flushed).Count }
            $linesSeen | Should -Be 2, 3, 4, 5, 6 -Because 'the header and one line per finished step are on disk'
        }

        It 'still logs every step with -PassThru' {
            $passThruLog = Join-Path $TestDrive 'passthru.csv'
            $null = Invoke-Training -Model (New-Model -Seed 2) -Steps 30 -PassThru -LogPath $passThruLog
            Import-Csv -Path $passThruLog | Should -HaveCount 30
        }
    }

    Context 'Export-Csv of the steps' {
        It 'has the documented columns, even though the first step has no ValidationLoss' {
            $csv = Join-Path $TestDrive 'loss.csv'
            $steps = Invoke-Training -Model (New-Model -Seed 3) -Steps 20 -ValidationFraction 0.1
            $steps[0].ValidationLoss | Should -BeNullOrEmpty
            $steps | Export-Csv -Path $csv
            $rows = Import-Csv -Path $csv
            $rows[0].PSObject.Properties.Name | Should -Be $stepColumns
            $rows | Should -HaveCount 20
            $rows[-1].ValidationLoss | Should -Not -BeNullOrEmpty
        }
    }

    Context 'validation' {
        It '-ValidationFraction fills ValidationLoss every -ValidationInterval steps and at the last step' {
            $steps = Invoke-Training -Model (New-Model -Seed 4) -Steps 50 -ValidationFraction 0.1 -ValidationInterval 20
            ($steps | Where-Object { $null -ne $_.ValidationLoss }).Step | Should -Be 20, 40, 50
            $steps | Where-Object { $null -ne $_.ValidationLoss } | ForEach-Object { $_.ValidationLoss | Should -BeGreaterThan 0 }
        }

        It '-ValidationText fills ValidationLoss, by default every Steps / 10 steps' {
            $steps = Invoke-Training -Model (New-Model -Seed 4) -Steps 50 -ValidationText 'the cat sat', 'i like my dog'
            ($steps | Where-Object { $null -ne $_.ValidationLoss }).Step | Should -Be 5, 10, 15, 20, 25, 30, 35, 40, 45, 50
        }

        It '-ValidationPath fills ValidationLoss from a file' {
            $held = Join-Path $TestDrive 'held-out.txt'
            Set-Content -Path $held -Value 'the cat sat', '', 'i like my dog'
            $steps = Invoke-Training -Model (New-Model -Seed 4) -Steps 40 -ValidationPath $held -ValidationInterval 20
            ($steps | Where-Object { $null -ne $_.ValidationLoss }).Step | Should -Be 20, 40
        }

        It 'measures what Measure-Model measures on the same sentences' {
            $model = New-Model -Seed 4
            $last = Invoke-Training -Model $model -Steps 30 -ValidationText 'the cat sat', 'i like my dog' | Select-Object -Last 1
            $measured = Measure-Model -Model $model -Text 'the cat sat', 'i like my dog'
            $last.ValidationLoss | Should -Be $measured.Loss
        }
    }

    Context 'learning' {
        It 'lowers the loss over 2000 steps' {
            $steps = Invoke-Training -Model (New-Model -Seed 5) -Steps 2000
            $early = ($steps | Select-Object -First 100 | Measure-Object -Property Loss -Average).Average
            $late = ($steps | Select-Object -Last 100 | Measure-Object -Property Loss -Average).Average
            $late | Should -BeLessThan ($early - 1) -Because 'the tutorial''s model learns the corpus'
        }

        It '-PassThru writes the trained model instead of the steps' {
            $model = New-Model -Seed 5
            $output = Invoke-Training -Model $model -Steps 30 -PassThru
            $output | Should -HaveCount 1
            $output | Should -BeOfType MicroGpt.Model
            [object]::ReferenceEquals($output, $model) | Should -BeTrue -Because 'training happens in place'
            $output.Steps | Should -Be 30
        }

        It '-PassThru without -Model writes the new default model' {
            $output = Invoke-Training -Steps 10 -PassThru
            $output | Should -BeOfType MicroGpt.Model
            $output.Steps | Should -Be 10
        }

        It 'gives identical losses and weights with -ThreadCount 1 and 2' {
            $one = New-Model -Seed 6
            $two = New-Model -Seed 6
            $lossesOne = (Invoke-Training -Model $one -Steps 200 -BatchSize 4 -ThreadCount 1).Loss
            $lossesTwo = (Invoke-Training -Model $two -Steps 200 -BatchSize 4 -ThreadCount 2).Loss
            $lossesTwo | Should -Be $lossesOne
            Test-SameWeights $one.GetWeights() $two.GetWeights() | Should -BeTrue
        }

        It 'gives the same run for the same seeds' {
            $a = New-Model -Seed 7
            $b = New-Model -Seed 7
            (Invoke-Training -Model $b -Steps 50 -Seed 3).Loss | Should -Be (Invoke-Training -Model $a -Steps 50 -Seed 3).Loss
            Test-SameWeights $a.GetWeights() $b.GetWeights() | Should -BeTrue
        }
    }

    Context 'checkpoints and -Resume' {
        BeforeAll {
            # The uninterrupted run.
            $uninterrupted = New-Model -Seed 8
            $null = Invoke-Training -Model $uninterrupted -Steps 200 -Seed 3

            # The same run, stopped after step 100 by Select-Object, then resumed from its checkpoint.
            $checkpoint = Join-Path $TestDrive 'checkpoint.json'
            $log = Join-Path $TestDrive 'resumed.csv'
            $interrupted = New-Model -Seed 8
            $firstHalf = Invoke-Training -Model $interrupted -Steps 200 -Seed 3 -CheckpointPath $checkpoint -CheckpointInterval 40 -LogPath $log |
                Select-Object -First 100
            $stepsInCheckpoint = (Import-Model -Path $checkpoint).Steps
            $secondHalf = Invoke-Training -Resume $checkpoint -CheckpointPath $checkpoint -LogPath $log
        }

        It 'stops at a step boundary and checkpoints every completed step' {
            $firstHalf | Should -HaveCount 100
            $interrupted.Steps | Should -Be 100
            $stepsInCheckpoint | Should -Be 100 -Because 'a stopped run saves its last step, between the -CheckpointInterval ones'
        }

        It 'keeps counting steps across the resumed run' {
            $secondHalf.Step | Should -Be (101..200)
            $secondHalf.Steps | Select-Object -Unique | Should -Be 200
        }

        It 'appends to the log of the run it resumes' {
            (Import-Csv -Path $log).Step | Should -Be (1..200)
        }

        It 'ends with the same weights as the uninterrupted run' {
            $resumed = Import-Model -Path $checkpoint
            $resumed.Steps | Should -Be 200
            Test-SameWeights $uninterrupted.GetWeights() $resumed.GetWeights() | Should -BeTrue
        }

        It 'saves the same model file as the uninterrupted run' {
            $expected = Join-Path $TestDrive 'uninterrupted.json'
            $actual = Join-Path $TestDrive 'resumed.json'
            $uninterrupted | Save-Model -Path $expected
            Import-Model -Path $checkpoint | Save-Model -Path $actual
            (Get-FileHash -Path $actual).Hash | Should -Be (Get-FileHash -Path $expected).Hash
        }

        It 'resumes a model saved with Save-Model -IncludeOptimizerState, with -PassThru' {
            $saved = Join-Path $TestDrive 'with-optimizer.json'
            $model = New-Model -Seed 8
            $null = Invoke-Training -Model $model -Steps 200 -Seed 3 | Select-Object -First 60
            $model | Save-Model -Path $saved -IncludeOptimizerState
            $resumed = Invoke-Training -Resume $saved -PassThru
            $resumed.Steps | Should -Be 200
            Test-SameWeights $uninterrupted.GetWeights() $resumed.GetWeights() | Should -BeTrue
        }
    }

    Context "nanoGPT's options" {
        It 'warms up, follows the cosine to the minimum, and shows the norm before clipping' {
            $m = New-Model -Init Gpt2 -Seed 3
            $steps = Invoke-Training -Model $m -Steps 41 -BatchSize 2 -LearningRate 0.002 -WarmupSteps 10 -Schedule Cosine -MinLearningRate 0.0002 -WeightDecay 0.1 -GradientClip 0.5
            $steps[0].LearningRate | Should -Be (0.002 * 1 / 11)
            $steps[10].LearningRate | Should -Be 0.002
            $steps[-1].LearningRate | Should -BeLessOrEqual 0.0002000000001
            $steps[-1].LearningRate | Should -BeGreaterOrEqual 0.0001999999999
            ($steps | Where-Object GradNorm -gt 0.5) | Should -Not -BeNullOrEmpty
        }

        It 'tab-completes -Schedule and -Init with their values' {
            $line = 'Invoke-Training -Schedule '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'Cosine', 'Linear'
            $line = 'New-Model -Init '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'Gpt2', 'Tutorial'
        }

        It 'refuses a weight decay out of range, naming the value, and trains nothing' {
            $m = New-Model -Seed 3
            $before = $m.GetWeights()
            { Invoke-Training -Model $m -Steps 5 -WeightDecay 1.5 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MicroGpt.Commands.InvokeTrainingCommand' -ExpectedMessage '*1.5*'
            Test-SameWeights $before $m.GetWeights() | Should -BeTrue
            $m.Steps | Should -Be 0
        }

        It 'refuses a minimum learning rate above the rate with our id, and trains nothing' {
            $m = New-Model -Seed 3
            { Invoke-Training -Model $m -Steps 5 -LearningRate 0.001 -MinLearningRate 0.01 -LogPath (Join-Path $TestDrive 'never.csv') } |
                Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -ExpectedMessage '*MinLearningRate 0.01*'
            $m.Steps | Should -Be 0
            Join-Path $TestDrive 'never.csv' | Should -Not -Exist
        }
    }
}
