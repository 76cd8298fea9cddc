#Requires -Version 7.4
# Text, files and models from the pipeline, as PowerShell users pipe them: the lines of
# Get-Content, the files of Get-Item and Get-ChildItem, models from New-Model or Import-Model.
# PowerShell binds a piped object to every parameter that can take it, so a model or a file also
# reaches -Text as its ToString(), and the lines of Get-Content carry their file's PSPath: each test
# checks that an object is taken for what it is, by comparing with the same input given by name.
# Also Invoke-Training -WhatIf, whose message only the host sees (a transcript records it).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force
    # A binding error for one piped object is not terminating: make every error fail its test.
    $ErrorActionPreference = 'Stop'

    function Test-SameWeights([float[]] $Expected, [float[]] $Actual) {
        [System.Linq.Enumerable]::SequenceEqual($Expected, $Actual)
    }

    # Three sentences in the default corpus's words, a blank line among them.
    $pets = Join-Path $TestDrive 'pets.txt'
    Set-Content -Path $pets -Value 'the cat is big', '', 'the dog runs', 'we play in the park'
    $more = Join-Path $TestDrive 'more.txt'
    Set-Content -Path $more -Value 'a bird can fly', 'the cat runs'
    $small = @{ Layers = 1; EmbeddingSize = 8; Heads = 2 }
}

Describe 'Invoke-Training with text and files from the pipeline' {
    It 'trains once on the lines of Get-Content, as one corpus, as -Path does' {
        $piped = Get-Content $pets | Invoke-Training -Steps 30 -LogInterval 10 -PassThru -Verbose 4>&1
        $model = $piped | Where-Object { $_ -is [MicroGpt.Model] }
        $model | Should -HaveCount 1
        $model.Steps | Should -Be 30
        $model.GetTokenizer().Vocabulary | Should -Be 'big', 'cat', 'dog', 'in', 'is', 'park', 'play', 'runs', 'the', 'we'
        ($piped | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain 'Read 3 sentences from the text given.'

        $named = Invoke-Training -Path $pets -Steps 30 -PassThru
        Test-SameWeights $named.GetWeights() $model.GetWeights() | Should -BeTrue
    }

    It 'writes one row per step for the whole corpus, not one run per line' {
        $steps = Get-Content $pets | Invoke-Training -Steps 12 -LogInterval 4
        $steps.Step | Should -Be 4, 8, 12
    }

    It 'trains a -Model given by name on the piped lines' {
        $model = New-Model @small
        $before = $model.GetWeights()
        $steps = Get-Content $pets | Invoke-Training -Model $model -Steps 5
        $steps | Should -HaveCount 5
        $model.Steps | Should -Be 5
        $byName = New-Model @small
        Invoke-Training -Model $byName -Text (Get-Content $pets) -Steps 5 | Out-Null
        Test-SameWeights $byName.GetWeights() $model.GetWeights() | Should -BeTrue
        Test-SameWeights $before $model.GetWeights() | Should -BeFalse
    }

    It 'takes the file from Get-Item, as -LiteralPath' {
        $model = Get-Item $pets | Invoke-Training -Steps 20 -PassThru
        $named = Invoke-Training -LiteralPath $pets -Steps 20 -PassThru
        Test-SameWeights $named.GetWeights() $model.GetWeights() | Should -BeTrue
        $model.VocabSize | Should -Be 11
    }

    It 'takes a file whose name has wildcard characters, literally' {
        $odd = Join-Path $TestDrive 'odd[1].txt'
        Set-Content -LiteralPath $odd -Value 'the cat is big'
        $model = Get-Item -LiteralPath $odd | Invoke-Training -Steps 2 -PassThru
        $model.GetTokenizer().Vocabulary | Should -Be 'big', 'cat', 'is', 'the'
    }

    It 'takes the files of Get-ChildItem as one corpus' {
        $folder = Join-Path $TestDrive 'corpus'
        New-Item -ItemType Directory -Path $folder | Out-Null
        Copy-Item $pets, $more -Destination $folder
        $model = Get-ChildItem $folder -Filter *.txt | Invoke-Training -Steps 10 -PassThru
        $model | Should -HaveCount 1
        $named = Invoke-Training -Path (Join-Path $folder '*.txt') -Steps 10 -PassThru
        Test-SameWeights $named.GetWeights() $model.GetWeights() | Should -BeTrue
    }

    It 'resumes a checkpoint on piped lines' {
        $checkpoint = Join-Path $TestDrive 'pets-checkpoint.json'
        $whole = Invoke-Training -Path $pets -Steps 20 -PassThru
        Invoke-Training -Path $pets -Steps 20 -CheckpointPath $checkpoint | Select-Object -First 8 | Out-Null
        $resumed = Get-Content $pets | Invoke-Training -Resume $checkpoint -PassThru
        $resumed.Steps | Should -Be 20
        Test-SameWeights $whole.GetWeights() $resumed.GetWeights() | Should -BeTrue
    }

    It 'trains nothing, and says so, when the pipeline brings nothing' {
        $empty = Join-Path $TestDrive 'empty.txt'
        Set-Content -Path $empty -Value @()
        $output = Get-Content $empty | Invoke-Training -Steps 5 -WarningVariable warnings -WarningAction SilentlyContinue
        $output | Should -BeNullOrEmpty
        $warnings | Should -HaveCount 1
        "$warnings" | Should -BeLike '*Nothing came down the pipeline*'
    }

    It 'refuses a corpus given two ways, before anything changes: <Case>' -TestCases @(
        @{ Case = 'piped lines and -Path'; Script = { param($m) Get-Content $pets | Invoke-Training -Model $m -Path $more -Steps 5 }; Named = '-Path and text from the pipeline' }
        @{ Case = 'a piped file and -Text'; Script = { param($m) Get-Item $pets | Invoke-Training -Model $m -Text 'the cat' -Steps 5 }; Named = '-Text and files from the pipeline' }
        @{ Case = 'piped files and lines'; Script = { param($m) (Get-Item $pets), 'the cat runs' | Invoke-Training -Model $m -Steps 5 }; Named = 'files from the pipeline and text from the pipeline' }
    ) {
        $model = New-Model @small
        $before = $model.GetWeights()
        $err = { & $Script $model } | Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*not $Named*"
        Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        $model.Steps | Should -Be 0
    }
}

Describe 'Invoke-Training with models from the pipeline' {
    It 'trains a piped model in place, on the default corpus, not on its name as text' {
        $model = New-Model @small
        $steps = $model | Invoke-Training -Steps 6
        $steps.Step | Should -Be (1..6)
        $model.Steps | Should -Be 6
        $byName = New-Model @small
        Invoke-Training -Model $byName -Steps 6 | Out-Null
        Test-SameWeights $byName.GetWeights() $model.GetWeights() | Should -BeTrue
    }

    It 'trains several piped models one after another, each with its own run' {
        $a = New-Model @small -Seed 1
        $b = New-Model @small -Seed 2
        $steps = $a, $b | Invoke-Training -Path $pets -Steps 4
        $steps.Step | Should -Be 1, 2, 3, 4, 1, 2, 3, 4
        $a.Steps | Should -Be 4
        $b.Steps | Should -Be 4
        $alone = New-Model @small -Seed 2
        Invoke-Training -Model $alone -Path $pets -Steps 4 | Out-Null
        Test-SameWeights $alone.GetWeights() $b.GetWeights() | Should -BeTrue
    }

    It 'trains models piped along with text lines on those lines' {
        $model = New-Model @small
        $steps = $model, 'the cat is big', 'the dog runs' | Invoke-Training -Steps 4
        $steps.Step | Should -Be 1, 2, 3, 4
        $byName = New-Model @small
        Invoke-Training -Model $byName -Text 'the cat is big', 'the dog runs' -Steps 4 | Out-Null
        Test-SameWeights $byName.GetWeights() $model.GetWeights() | Should -BeTrue
    }

    It 'refuses several piped models for one -<Parameter> file, and trains none of them' -TestCases @(
        @{ Parameter = 'LogPath' }
        @{ Parameter = 'CheckpointPath' }
    ) {
        $a = New-Model @small -Seed 1
        $b = New-Model @small -Seed 2
        $file = Join-Path $TestDrive "shared-$Parameter.csv"
        $arguments = @{ $Parameter = $file }
        $err = { $a, $b | Invoke-Training -Steps 4 @arguments } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*2 models came down the pipeline*-$Parameter*ForEach-Object*"
        $a.Steps + $b.Steps | Should -Be 0
        $file | Should -Not -Exist
    }

    It 'refuses a model piped or given to -Resume, and leaves the checkpoint as it was' {
        $checkpoint = Join-Path $TestDrive 'resume-checkpoint.json'
        Invoke-Training -Steps 10 -CheckpointPath $checkpoint | Select-Object -First 5 | Out-Null
        $hash = (Get-FileHash $checkpoint).Hash
        $model = New-Model @small
        $err = { $model | Invoke-Training -Resume $checkpoint } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*cannot train another model, from -Model or the pipeline*'
        { Invoke-Training -Resume $checkpoint -Model $model } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand'
        (Get-FileHash $checkpoint).Hash | Should -Be $hash
        $model.Steps | Should -Be 0
    }
}

Describe 'New-Tokenizer, Get-Tokens and Measure-Model with text and files from the pipeline' {
    It 'New-Tokenizer builds one vocabulary from Get-Item, Get-ChildItem or Get-Content as from -Path' {
        $byPath = New-Tokenizer -Path $pets
        (Get-Item $pets | New-Tokenizer).Vocabulary | Should -Be $byPath.Vocabulary
        (Get-Content $pets | New-Tokenizer).Vocabulary | Should -Be $byPath.Vocabulary
        (Get-ChildItem $pets, $more | New-Tokenizer).Vocabulary | Should -Be (New-Tokenizer -Path $pets, $more).Vocabulary
    }

    It 'New-Tokenizer refuses an empty pipeline as an empty corpus, rather than taking the default corpus' {
        { @() | New-Tokenizer } | Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.NewTokenizerCommand'
    }

    It 'Get-Tokens encodes each line of a piped file, as it encodes the lines of Get-Content' {
        $fromFile = Get-Item $pets | Get-Tokens
        $fromLines = Get-Content $pets | Get-Tokens
        $fromFile | Should -HaveCount 3
        $fromFile.Text | Should -Be $fromLines.Text
        $fromFile[0].Ids | Should -Be $fromLines[0].Ids
    }

    It 'Get-Tokens refuses <Case>' -TestCases @(
        @{ Case = 'no text'; Script = { Get-Tokens } }
        @{ Case = 'text and files'; Script = { Get-Tokens -Text 'the cat' -LiteralPath $pets } }
    ) {
        { & $Script } | Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.GetTokensCommand'
    }

    It 'Measure-Model measures -Model once on piped lines or a piped file, as on -Path' {
        $model = New-Model @small
        $byPath = Measure-Model -Model $model -Path $pets
        $fromLines = Get-Content $pets | Measure-Model -Model $model
        $fromFile = Get-Item $pets | Measure-Model -Model $model
        $fromLines | Should -HaveCount 1
        $fromLines.Sentences | Should -Be 3
        $fromLines.Loss | Should -Be $byPath.Loss
        $fromFile.Loss | Should -Be $byPath.Loss
    }

    It 'Measure-Model measures each piped model on the default corpus, not on its name' {
        $measurements = (New-Model @small -Seed 1), (New-Model @small -Seed 2) | Measure-Model
        $measurements | Should -HaveCount 2
        $measurements.Sentences | Should -Be 30000, 30000
    }
}

Describe 'Invoke-Training -WhatIf' {
    BeforeAll {
        # What if: messages go to the host only; a transcript records what the host shows.
        function Get-WhatIf([scriptblock] $Script) {
            $transcript = Join-Path $TestDrive "transcript-$([guid]::NewGuid()).txt"
            Start-Transcript -Path $transcript -UseMinimalHeader | Out-Null
            try { & $Script | Out-Null } finally { Stop-Transcript | Out-Null }
            (Get-Content $transcript | Where-Object { $_ -like 'What if:*' }) -join ' '
        }
    }

    It 'says what it would train and which files it would create, and creates none' {
        $log = Join-Path $TestDrive 'whatif-run.csv'
        $checkpoint = Join-Path $TestDrive 'whatif-checkpoint.json'
        $model = New-Model @small
        $before = $model.GetWeights()
        $message = Get-WhatIf { Invoke-Training -Model $model -Path $pets -Steps 300 -LogPath $log -CheckpointPath $checkpoint -CheckpointInterval 100 -WhatIf }
        $message | Should -BeLike "What if: Training a model of 1 layer, embedding 8, 2 heads, block 16 and 597 tokens ($($model.ParameterCount.ToString('N0')) parameters) on '$pets' (3 sentences), steps 1 to 300, batch 1; creating the log '$log', and writing the checkpoint '$checkpoint' every 100 steps and at the end."
        $log | Should -Not -Exist
        $checkpoint | Should -Not -Exist
        Test-SameWeights $before $model.GetWeights() | Should -BeTrue
    }

    It 'says which files it would truncate or append to, and leaves them as they were' {
        $log = Join-Path $TestDrive 'existing-run.csv'
        $checkpoint = Join-Path $TestDrive 'existing-checkpoint.json'
        Invoke-Training -Steps 30 -LogPath $log -CheckpointPath $checkpoint -CheckpointInterval 7 | Select-Object -First 10 | Out-Null
        $hashes = Get-FileHash $log, $checkpoint
        (Get-WhatIf { Invoke-Training -Steps 30 -LogPath $log -WhatIf }) | Should -BeLike "*truncating and rewriting the log '$log'*"
        (Get-WhatIf { Invoke-Training -Resume $checkpoint -LogPath $log -WhatIf }) |
            Should -BeLike "What if: Resuming the run of '$checkpoint', training * steps 11 to 30, batch 1; appending to the log '$log' (after dropping any rows past step 10), and replacing the checkpoint '$checkpoint' every 7 steps and at the end."
        # The interval is the run's, kept in its checkpoint, unless a new one is given.
        (Get-WhatIf { Invoke-Training -Resume $checkpoint -CheckpointInterval 5 -WhatIf }) | Should -BeLike "*replacing the checkpoint '$checkpoint' every 5 steps and at the end."
        (Get-FileHash $log, $checkpoint).Hash | Should -Be $hashes.Hash
    }
}
