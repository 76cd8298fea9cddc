#Requires -Version 7.4
# Stream mode, as a user meets it: New-Tokenizer -Stream, Invoke-Training -Stream (and resuming
# it), Measure-Model -Stream, Invoke-Generation -MaxTokens, and the bad inputs. examples/text.ps1
# runs in tests/Unit/Cmdlets/ExampleScriptTests.cs.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    # A small play: CR LF line ends, punctuation, capitals, a character outside ASCII.
    $verse = "ROMEO:`r`nBut, soft! what light through yonder window breaks?`r`nIt is the east, and Juliet is the sun.`r`n`r`nJULIET:`r`nO Romeo, Romeo! wherefore art thou Romeo? — `r`n"
    $play = Join-Path $TestDrive 'play.txt'
    [IO.File]::WriteAllText($play, $verse * 12)
    $text = [IO.File]::ReadAllText($play)

    function New-StreamModel([int] $Seed = 1) {
        New-Model -Tokenizer (New-Tokenizer -Path $play -Stream) -EmbeddingSize 16 -Layers 1 -Heads 2 -BlockSize 16 -Seed $Seed
    }
}

Describe 'New-Tokenizer -Stream' {
    It 'learns every character of the text, line ends included, and gives the text back exactly' {
        $tokenizer = New-Tokenizer -Path $play -Stream
        $tokenizer.Kind | Should -Be 'Character'
        $tokenizer.Vocabulary | Should -Contain "`n"
        $tokenizer.Vocabulary | Should -Contain "`r"
        $tokenizer.Vocabulary | Should -Contain '—'
        $tokenizer.Decode($tokenizer.Encode($text)) | Should -BeExactly $text
    }

    It 'refuses -VocabSize, which is for -Kind Bpe, naming the value, and another -Kind' {
        $err = { New-Tokenizer -Path $play -Stream -VocabSize 300 } | Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*-VocabSize (300)*'
        { New-Tokenizer -Path $play -Stream -Kind Bpe -VocabSize 300 } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand'
    }
}

Describe 'A stream model in sentence mode' {
    It 'is warned of by <Command>, whose -Stream (or -MaxTokens) was forgotten, and not with it' -TestCases @(
        @{ Command = 'Invoke-Training'; Sentence = { Invoke-Training -Model $model -Path $play -Steps 1 }; Stream = { Invoke-Training -Model $model -Path $play -Steps 1 -Stream } }
        @{ Command = 'Measure-Model'; Sentence = { Measure-Model -Model $model -Path $play }; Stream = { Measure-Model -Model $model -Path $play -Stream } }
        @{ Command = 'Invoke-Generation'; Sentence = { Invoke-Generation -Model $model -Prompt 'ROMEO:' -Seed 1 }; Stream = { Invoke-Generation -Model $model -Prompt 'ROMEO:' -Stream -MaxTokens 5 -Seed 1 } }
        @{ Command = 'Get-Prediction'; Sentence = { Get-Prediction -Model $model -Prompt 'ROMEO:' }; Stream = { Get-Prediction -Model $model -Prompt 'ROMEO:' -Stream } }
        @{ Command = 'Get-Attention'; Sentence = { Get-Attention -Model $model -Text 'ROMEO:' }; Stream = { Get-Attention -Model $model -Text 'ROMEO:' -Stream } }
    ) {
        $model = New-StreamModel
        $warned = & $Sentence 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $warned | Where-Object { "$_" -like "*line end as a token*$Command is in sentence mode*-Stream*" } | Should -HaveCount 1
        $quiet = & $Stream 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $quiet | Where-Object { "$_" -like '*line end as a token*' } | Should -BeNullOrEmpty
    }

    It 'is not what a sentence model of characters is (its lines hold no line end)' {
        $names = New-Model -Tokenizer (New-Tokenizer -Kind Character -Text 'anna', 'bob') -EmbeddingSize 16 -Layers 1 -BlockSize 8
        $null = Invoke-Training -Model $names -Text 'anna', 'bob' -Steps 1 -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Where-Object { "$_" -like '*line end as a token*' } | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-Training -ValidationExamples' {
    It 'measures each validation on that many held-out <Unit>, and changes no step' -TestCases @(
        @{ Unit = 'windows'; Run = { param($n) Invoke-Training -Model (New-StreamModel -Seed 6) -Path $play -Stream -Steps 6 -BatchSize 4 -ValidationFraction 0.3 -ValidationInterval 3 -ValidationExamples $n } }
        @{ Unit = 'sentences'; Run = { param($n) Invoke-Training -Model (New-Model -Seed 6) -Steps 6 -ValidationFraction 0.01 -ValidationInterval 3 -ValidationExamples $n } }
    ) {
        $all = & $Run 0
        $some = & $Run 3
        $some.Loss | Should -Be $all.Loss
        ($some | Where-Object ValidationLoss) | Should -HaveCount 2
        $some.ValidationLoss | Where-Object { $_ } | Should -Not -Be ($all.ValidationLoss | Where-Object { $_ })
    }

    It 'refuses a negative count at binding' {
        { Invoke-Training -Steps 2 -ValidationExamples -1 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MicroGpt.Commands.InvokeTrainingCommand'
    }
}

Describe 'Get-Tokens -Stream' {
    It 'encodes a file''s whole text, or each string, exactly as it is, with no BOS' {
        $tokenizer = New-Tokenizer -Path $play -Stream
        $file = Get-Tokens -Tokenizer $tokenizer -LiteralPath $play -Stream
        $file | Should -HaveCount 1
        $file.Text | Should -BeExactly $text
        $file.Ids | Should -Be $tokenizer.Encode($text)
        $file.Ids | Should -Not -Contain $tokenizer.Bos
        $strings = Get-Tokens -Tokenizer $tokenizer -Text "ROMEO:`r`n", ' But ' -Stream
        $strings | Should -HaveCount 2
        $strings[1].Tokens -join '' | Should -BeExactly ' But ' # not trimmed
        $strings[0].Count | Should -Be 8
        # without -Stream: one sentence a line, trimmed, between BOS
        (Get-Tokens -Tokenizer $tokenizer -Text ' But ').Ids | Should -Be (@($tokenizer.Bos) + $tokenizer.Encode('But') + @($tokenizer.Bos))
    }

    It 'names a character the tokenizer lacks, and goes on with the other texts' {
        $tokenizer = New-Tokenizer -Path $play -Stream
        $out = Get-Tokens -Tokenizer $tokenizer -Text 'Zoë', 'ROMEO' -Stream -ErrorVariable failed -ErrorAction SilentlyContinue
        $out.Text | Should -Be 'ROMEO'
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'UnknownToken,MicroGpt.Commands.GetTokensCommand'
        $failed[0].Exception.Message | Should -BeLike "*'Z'*"
    }
}

Describe 'Invoke-Training -Stream' {
    It 'trains on windows of BlockSize + 1 tokens, -BatchSize of them a step, every prediction counting' {
        $model = New-StreamModel
        $steps = Invoke-Training -Model $model -Path $play -Stream -Steps 30 -BatchSize 4 -LearningRate 0.003 -ValidationFraction 0.1
        $steps | Should -HaveCount 30
        $steps[-1].Tokens | Should -Be (30 * 4 * 16)
        $steps[-1].ValidationLoss | Should -BeGreaterThan 0
        $steps[-1].Loss | Should -BeLessThan $steps[0].Loss
    }

    It 'makes a character model of the whole text when given no -Model' {
        $model = Invoke-Training -Path $play -Stream -Steps 3 -PassThru
        $model.GetTokenizer().Kind | Should -Be 'Character'
        $model.GetTokenizer().Vocabulary | Should -Contain "`n"
        $model.Steps | Should -Be 3
    }

    It 'resumes a stopped stream run as a stream run, bit for bit, without -Stream' {
        $whole = New-StreamModel -Seed 2
        $null = Invoke-Training -Model $whole -Path $play -Stream -Steps 20 -BatchSize 3
        $checkpoint = Join-Path $TestDrive 'stream.json'
        $stopped = New-StreamModel -Seed 2
        $null = Invoke-Training -Model $stopped -Path $play -Stream -Steps 20 -BatchSize 3 -CheckpointPath $checkpoint | Select-Object -First 8
        $rest = Invoke-Training -Resume $checkpoint -Path $play
        $rest[0].Step | Should -Be 9
        $resumed = Import-Model $checkpoint
        [Linq.Enumerable]::SequenceEqual($whole.GetWeights(), $resumed.GetWeights()) | Should -BeTrue
    }

    It 'refuses -Stream for a checkpoint of a sentence run' {
        $checkpoint = Join-Path $TestDrive 'sentences.json'
        $null = Invoke-Training -Model (New-Model -Seed 1) -Steps 5 -CheckpointPath $checkpoint
        { Invoke-Training -Resume $checkpoint -Stream } | Should -Throw -ErrorId 'CheckpointMismatch,MicroGpt.Commands.InvokeTrainingCommand'
    }
}

Describe 'Measure-Model -Stream' {
    BeforeAll {
        $model = New-StreamModel -Seed 3
        $null = Invoke-Training -Model $model -Path $play -Stream -Steps 20 -BatchSize 4
    }

    It 'measures every token but the first, the same whatever the threads' {
        $one = Measure-Model -Model $model -Path $play -Stream -ThreadCount 1
        $two = Measure-Model -Model $model -Path $play -Stream -ThreadCount 2
        $one.Tokens | Should -Be ($text.Length - 1)
        $one.Windows | Should -Be ([Math]::Ceiling(($text.Length - 1) / 16))
        $two.Loss | Should -Be $one.Loss
        $one.Perplexity | Should -Be ([Math]::Exp($one.Loss))
    }

    It 'shows what it measured on: windows in stream mode, sentences otherwise, the other column blank' {
        $stream = Measure-Model -Model $model -Path $play -Stream
        $lines = ($stream | Format-Table | Out-String -Width 200) -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ }
        $lines[0] | Should -Match '^\s*Loss\s+Perplexity\s+Sentences\s+Windows\s+Tokens$'
        $lines[2] | Should -Match "^\s*\S+\s+\S+\s+$($stream.Windows)\s+$($stream.Tokens)$"
        $sentences = Measure-Model -Model (New-Model) -Text 'the cat eats a cake', 'a dog runs'
        $lines = ($sentences | Format-Table | Out-String -Width 200) -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ }
        $lines[2] | Should -Match "^\s*\S+\s+\S+\s+2\s+$($sentences.Tokens)$"
    }
}

Describe 'Invoke-Generation -MaxTokens' {
    BeforeAll {
        $model = New-StreamModel -Seed 4
        $null = Invoke-Training -Model $model -Path $play -Stream -Steps 50 -BatchSize 4 -LearningRate 0.005
    }

    It '-Stream continues the prompt as -MaxTokens does, for 200 tokens unless -MaxTokens says otherwise' {
        $default = Invoke-Generation -Model $model -Prompt 'ROMEO:' -Stream -Seed 2
        $default.Ids | Should -HaveCount (6 + 200)
        $default.Text | Should -BeExactly (Invoke-Generation -Model $model -Prompt 'ROMEO:' -MaxTokens 200 -Seed 2).Text
        (Invoke-Generation -Model $model -Prompt 'ROMEO:' -Stream -MaxTokens 30 -Seed 2).Ids | Should -HaveCount 36
        (Invoke-Generation -Model $model -Prompt 'ROMEO: ' -Stream -MaxTokens 1 -Seed 2).Text | Should -BeLikeExactly 'ROMEO: ?' # the prompt as typed, its space kept
    }

    It 'continues the prompt, exactly as given, for -MaxTokens tokens past the block size' {
        $sample = Invoke-Generation -Model $model -Prompt 'ROMEO:' -MaxTokens 100 -Seed 1
        $sample.Text | Should -BeLikeExactly 'ROMEO:*'
        $sample.Ids | Should -HaveCount (6 + 100)
        $sample.Ids | Should -Not -Contain $model.GetTokenizer().Bos
        (Invoke-Generation -Model $model -Prompt 'ROMEO:' -MaxTokens 100 -Seed 1).Text | Should -BeExactly $sample.Text
    }
}

Describe 'Bad input in stream mode' {
    It 'refuses a stream shorter than BlockSize + 1 tokens, naming its length, and trains nothing' {
        $model = New-StreamModel
        $log = Join-Path $TestDrive 'short.csv'
        $err = { Invoke-Training -Model $model -Text 'ROMEO:' -Stream -Steps 5 -LogPath $log } |
            Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*6 tokens*(17)*'
        $model.Steps | Should -Be 0
        $log | Should -Not -Exist
        { Measure-Model -Model $model -Text 'ROMEO:' -Stream } | Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.MeasureModelCommand'
    }

    It 'refuses a word tokenizer given a word it lacks, naming the word and its line, and trains nothing' {
        $model = New-Model -Seed 1 # the default corpus's words, lower-case
        $before = $model.GetWeights()
        $err = { Invoke-Training -Model $model -Path $play -Stream -Steps 5 } |
            Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*Line 1 of '*play.txt'*'ROMEO:'*"
        [Linq.Enumerable]::SequenceEqual($before, $model.GetWeights()) | Should -BeTrue
    }

    It 'refuses -NoShuffle with -Stream' {
        { Invoke-Training -Model (New-StreamModel) -Path $play -Stream -NoShuffle -Steps 2 } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand'
    }
}
