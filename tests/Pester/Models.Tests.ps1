#Requires -Version 7.4
# New-Model, Save-Model and Import-Model: shapes, parameter counts, model files (JSON and
# safetensors), -WhatIf, -NoClobber, -PassThru, pipeline binding, bad files, relative paths.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    function Test-SameWeights([float[]] $Expected, [float[]] $Actual) {
        [System.Linq.Enumerable]::SequenceEqual($Expected, $Actual)
    }

    function Test-SameShape($Expected, $Actual) {
        $shape = 'Layers', 'EmbeddingSize', 'Heads', 'BlockSize', 'VocabSize', 'ParameterCount'
        -not (Compare-Object ($Actual | Select-Object $shape) ($Expected | Select-Object $shape) -Property $shape)
    }

    # DESIGN.md: (2V + T) C for the embeddings and the output head, 12 C^2 per layer.
    function Get-ExpectedParameterCount([int] $VocabSize, [int] $EmbeddingSize, [int] $Layers, [int] $BlockSize) {
        (2 * $VocabSize + $BlockSize) * $EmbeddingSize + 12 * $Layers * $EmbeddingSize * $EmbeddingSize
    }
}

Describe 'New-Model' {
    BeforeAll {
        $defaultTokenizer = New-Tokenizer
        $model = New-Model
    }

    It 'writes a MicroGpt.Model' {
        $model | Should -BeOfType MicroGpt.Model
        $model.PSObject.TypeNames[0] | Should -Be 'MicroGpt.Model'
    }

    It 'has the tutorial''s shape by default, over the default corpus''s vocabulary' {
        $model.EmbeddingSize | Should -Be 32
        $model.Heads | Should -Be 4
        $model.Layers | Should -Be 2
        $model.BlockSize | Should -Be 16
        $model.VocabSize | Should -Be $defaultTokenizer.VocabSize
        $model.GetTokenizer().Vocabulary | Should -Be $defaultTokenizer.Vocabulary
    }

    It 'has (2V + T) C + 12 L C^2 parameters by default' {
        $model.ParameterCount | Should -Be (Get-ExpectedParameterCount $defaultTokenizer.VocabSize 32 2 16)
        $model.GetWeights() | Should -HaveCount $model.ParameterCount
    }

    It 'has the tutorial''s 63,296 parameters on its 597-token vocabulary' {
        if ($defaultTokenizer.VocabSize -ne 597) {
            Set-ItResult -Skipped -Because "the default corpus has $($defaultTokenizer.VocabSize) tokens, not the tutorial's 597"
        }
        $model.ParameterCount | Should -Be 63296
    }

    It 'has (2V + T) C + 12 L C^2 parameters with -Layers <Layers> -EmbeddingSize <EmbeddingSize> -Heads <Heads> -BlockSize <BlockSize>' -TestCases @(
        @{ Layers = 1; EmbeddingSize = 8; Heads = 2; BlockSize = 8 }
        @{ Layers = 3; EmbeddingSize = 48; Heads = 6; BlockSize = 32 }
        @{ Layers = 4; EmbeddingSize = 64; Heads = 1; BlockSize = 4 }
    ) {
        $shaped = New-Model -Layers $Layers -EmbeddingSize $EmbeddingSize -Heads $Heads -BlockSize $BlockSize
        $shaped.Layers, $shaped.EmbeddingSize, $shaped.Heads, $shaped.BlockSize | Should -Be $Layers, $EmbeddingSize, $Heads, $BlockSize
        $shaped.ParameterCount | Should -Be (Get-ExpectedParameterCount $defaultTokenizer.VocabSize $EmbeddingSize $Layers $BlockSize)
    }

    It 'draws its weights from N(0, 0.08)' {
        $stats = $model.GetWeights() | Measure-Object -Average -StandardDeviation
        [math]::Abs($stats.Average) | Should -BeLessThan 0.002
        [math]::Abs($stats.StandardDeviation - 0.08) | Should -BeLessThan 0.002
    }

    It 'gives the same weights for the same -Seed, and others for another' {
        Test-SameWeights (New-Model -Seed 3).GetWeights() (New-Model -Seed 3).GetWeights() | Should -BeTrue
        Test-SameWeights (New-Model -Seed 3).GetWeights() (New-Model -Seed 4).GetWeights() | Should -BeFalse
    }

    It 'takes its tokenizer from the pipeline' {
        $tokenizer = New-Tokenizer -Text 'the cat sat', 'the dog ran'
        $small = $tokenizer | New-Model -EmbeddingSize 8 -Heads 2 -Layers 1
        $small.VocabSize | Should -Be $tokenizer.VocabSize
        $small.GetTokenizer().Vocabulary | Should -Be $tokenizer.Vocabulary
    }

    It 'refuses an embedding size not divisible by the heads' {
        $err = { New-Model -EmbeddingSize 30 -Heads 4 } | Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewModelCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*30*'
        $err.Exception.Message | Should -BeLike '*4*'
    }

    It 'rejects -<Parameter> <Value> by parameter validation' -TestCases @(
        @{ Parameter = 'Layers'; Value = 0 }
        @{ Parameter = 'Layers'; Value = -1 }
        @{ Parameter = 'EmbeddingSize'; Value = 0 }
        @{ Parameter = 'EmbeddingSize'; Value = -32 }
        @{ Parameter = 'Heads'; Value = 0 }
        @{ Parameter = 'BlockSize'; Value = -16 }
    ) {
        $arguments = @{ $Parameter = $Value }
        $err = { New-Model @arguments } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MicroGpt.Commands.NewModelCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*'$Parameter'*"
        $err.Exception.Message | Should -BeLike "*$Value*"
    }
}

Describe 'Save-Model and Import-Model' {
    BeforeAll {
        $model = New-Model -Seed 4
        $null = Invoke-Training -Model $model -Steps 100
    }

    Context 'JSON files' {
        BeforeAll {
            $path = Join-Path $TestDrive 'model.json'
            $model | Save-Model -Path $path
            $loaded = Import-Model -Path $path
        }

        It 'round-trips every weight' {
            $loaded | Should -BeOfType MicroGpt.Model
            $loaded.ParameterCount | Should -Be $model.ParameterCount
            Test-SameWeights $model.GetWeights() $loaded.GetWeights() | Should -BeTrue
        }

        It 'round-trips the configuration, the vocabulary and the training summary' {
            Test-SameShape $model $loaded | Should -BeTrue
            $loaded.GetTokenizer().Kind | Should -Be $model.GetTokenizer().Kind
            $loaded.GetTokenizer().Vocabulary | Should -Be $model.GetTokenizer().Vocabulary
            $loaded.Steps | Should -Be 100
            $loaded.Tokens | Should -Be $model.Tokens
            $loaded.Loss | Should -Be $model.Loss
        }

        It 'writes the keys the tutorial''s loader reads' {
            $json = Get-Content -Path $path -Raw | ConvertFrom-Json
            $json.config.nLayer | Should -Be 2
            $json.config.nEmbd | Should -Be 32
            $json.config.blockSize | Should -Be 16
            $json.config.nHead | Should -Be 4
            $json.config.headDim | Should -Be 8
            $json.config.vocabSize | Should -Be $model.VocabSize
            $json.weights | Should -HaveCount $model.ParameterCount
        }

        It 'reads the tutorial''s files, which carry no vocabulary, given -Tokenizer' {
            $tokenizer = New-Tokenizer -Text 'the cat sat', 'the dog ran'
            $small = New-Model -Tokenizer $tokenizer -EmbeddingSize 8 -Heads 2 -Layers 1 -BlockSize 8
            $saved = $small | Save-Model -Path (Join-Path $TestDrive 'small.json') -PassThru
            $json = Get-Content -Path $saved.FullName -Raw | ConvertFrom-Json
            $tutorialFile = Join-Path $TestDrive 'tutorial.json'
            [pscustomobject]@{ config = $json.config; weights = $json.weights } | ConvertTo-Json -Depth 5 -Compress | Set-Content -Path $tutorialFile
            $tutorial = Import-Model -Path $tutorialFile -Tokenizer $tokenizer
            Test-SameWeights $small.GetWeights() $tutorial.GetWeights() | Should -BeTrue
            $tutorial.GetTokenizer().Vocabulary | Should -Be $tokenizer.Vocabulary
        }

        It 'overwrites an existing file' {
            $other = Join-Path $TestDrive 'overwritten.json'
            New-Model -Seed 1 | Save-Model -Path $other
            $model | Save-Model -Path $other
            Test-SameWeights $model.GetWeights() (Import-Model -Path $other).GetWeights() | Should -BeTrue
        }

        It 'leaves no temporary file beside the model' {
            # AtomicFile writes a hidden temporary file first, then renames it over the target.
            Get-ChildItem -Path $TestDrive -File -Force | Where-Object Extension -NE '.json' | Should -BeNullOrEmpty
        }
    }

    Context 'safetensors files' {
        BeforeAll {
            $path = Join-Path $TestDrive 'model.safetensors'
            $file = $model | Save-Model -Path $path -PassThru
            $loaded = Import-Model -Path $path
        }

        It 'picks the format from the extension and writes the vocabulary beside it' {
            $file.FullName | Should -Be (Get-Item -Path $path).FullName
            Join-Path $TestDrive 'model.config.json' | Should -Exist
        }

        It 'round-trips every weight' {
            Test-SameShape $model $loaded | Should -BeTrue
            $loaded.GetTokenizer().Vocabulary | Should -Be $model.GetTokenizer().Vocabulary
            Test-SameWeights $model.GetWeights() $loaded.GetWeights() | Should -BeTrue
        }

        It 'round-trips the training summary' {
            # Safetensors.cs: the config file beside it "carries the configuration, tokenizer and training summary".
            $loaded.Steps | Should -Be 100
            $loaded.Loss | Should -Be $model.Loss
        }

        It 'writes safetensors with -Format Safetensors, adding the extension' {
            $saved = $model | Save-Model -Path (Join-Path $TestDrive 'by-format') -Format Safetensors -PassThru
            $saved.Name | Should -Be 'by-format.safetensors'
            Test-SameWeights $model.GetWeights() (Import-Model -Path $saved.FullName).GetWeights() | Should -BeTrue
        }

        It 'reports a truncated file as ModelFileCorrupt' {
            $truncated = Join-Path $TestDrive 'truncated.safetensors'
            $bytes = [System.IO.File]::ReadAllBytes($path)
            [System.IO.File]::WriteAllBytes($truncated, $bytes[0..($bytes.Length / 2)])
            Copy-Item -Path (Join-Path $TestDrive 'model.config.json') -Destination (Join-Path $TestDrive 'truncated.config.json')
            $result = Import-Model -Path $truncated -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ModelFileCorrupt,MicroGpt.Commands.ImportModelCommand'
            $err[0].Exception.Message | Should -BeLike "*$truncated*"
        }
    }

    Context '-WhatIf, -NoClobber and -PassThru' {
        It '-WhatIf writes nothing' {
            $path = Join-Path $TestDrive 'whatif.json'
            $output = $model | Save-Model -Path $path -WhatIf -PassThru
            $output | Should -BeNullOrEmpty
            $path | Should -Not -Exist
        }

        It '-WhatIf leaves an existing file as it was' {
            $path = Join-Path $TestDrive 'whatif-existing.json'
            New-Model -Seed 1 | Save-Model -Path $path
            $before = Get-FileHash -Path $path
            $model | Save-Model -Path $path -WhatIf
            (Get-FileHash -Path $path).Hash | Should -Be $before.Hash
        }

        It '-NoClobber refuses to overwrite, with ModelFileExists, and leaves the file as it was' {
            $path = Join-Path $TestDrive 'noclobber.json'
            New-Model -Seed 1 | Save-Model -Path $path
            $before = Get-FileHash -Path $path
            $err = { $model | Save-Model -Path $path -NoClobber } | Should -Throw -ErrorId 'ModelFileExists,MicroGpt.Commands.SaveModelCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            $err.Exception.Message | Should -BeLike "*$path*"
            (Get-FileHash -Path $path).Hash | Should -Be $before.Hash
        }

        It '-NoClobber writes a file that does not exist yet' {
            $path = Join-Path $TestDrive 'noclobber-new.json'
            $model | Save-Model -Path $path -NoClobber
            $path | Should -Exist
        }

        It '-PassThru writes the saved file''s FileInfo' {
            $path = Join-Path $TestDrive 'passthru.json'
            $file = $model | Save-Model -Path $path -PassThru
            $file | Should -BeOfType System.IO.FileInfo
            $file.FullName | Should -Be (Get-Item -Path $path).FullName
            $file.Length | Should -BeGreaterThan 0
        }

        It 'writes nothing to the pipeline without -PassThru' {
            $model | Save-Model -Path (Join-Path $TestDrive 'quiet.json') | Should -BeNullOrEmpty
        }
    }

    Context 'pipeline input' {
        BeforeAll {
            $folder = New-Item -Path (Join-Path $TestDrive 'models') -ItemType Directory
            $seeds = 11, 12, 13
            foreach ($seed in $seeds) {
                New-Model -Seed $seed -EmbeddingSize 8 -Heads 2 -Layers 1 | Save-Model -Path (Join-Path $folder "model-$seed.json")
            }
        }

        It 'Get-ChildItem *.json | Import-Model reads every model file' {
            Push-Location -Path $folder
            try {
                $models = Get-ChildItem -Path *.json | Import-Model
            }
            finally {
                Pop-Location
            }
            $models | Should -HaveCount 3
            $models | Should -BeOfType MicroGpt.Model
            $models.Seed | Sort-Object | Should -Be $seeds
        }

        It 'reads the paths given as strings on the pipeline' {
            $models = $seeds | ForEach-Object { Join-Path $folder "model-$_.json" } | Import-Model
            $models | Should -HaveCount 3
        }

        It 'expands wildcards in -Path' {
            Import-Model -Path (Join-Path $folder 'model-1*.json') | Should -HaveCount 3
        }

        It 'Save-Model takes the model from the pipeline' {
            $path = Join-Path $TestDrive 'piped.json'
            $model | Save-Model -Path $path
            $path | Should -Exist
        }
    }

    Context 'bad model files' {
        BeforeAll {
            $good = Join-Path $TestDrive 'good.json'
            New-Model -Seed 1 -EmbeddingSize 8 -Heads 2 -Layers 1 | Save-Model -Path $good
            $goodText = Get-Content -Path $good -Raw
        }

        It 'reports a file that is <Case> as ModelFileCorrupt, writes no model, and reads the other files' -TestCases @(
            @{ Case = 'truncated'; Corrupt = { param($text) $text.Substring(0, $text.Length / 2) } }
            @{ Case = 'empty'; Corrupt = { param($text) '' } }
            @{ Case = 'not JSON'; Corrupt = { param($text) 'this is not a model' } }
            @{ Case = 'of the wrong shape'; Corrupt = { param($text) $text.Replace('"nEmbd":8', '"nEmbd":16').Replace('"headDim":4', '"headDim":8') } }
            @{ Case = 'of an unknown version'; Corrupt = { param($text) $text.Replace('"formatVersion":2', '"formatVersion":99') } }
        ) {
            $name = ($Case -replace ' ', '-') + '.json'
            $bad = Join-Path $TestDrive $name
            Set-Content -Path $bad -Value (& $Corrupt $goodText) -NoNewline
            $models = Import-Model -Path $bad, $good -ErrorVariable err -ErrorAction SilentlyContinue
            $models | Should -HaveCount 1 -Because 'only the good file is a model'
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ModelFileCorrupt,MicroGpt.Commands.ImportModelCommand'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $err[0].TargetObject | Should -Be (Get-Item -Path $bad).FullName
            $err[0].Exception.Message | Should -BeLike "*$name*"
        }

        It 'reports a missing file as ModelFileNotFound and writes no model' {
            $missing = Join-Path $TestDrive 'missing.json'
            $models = Import-Model -Path $missing -ErrorVariable err -ErrorAction SilentlyContinue
            $models | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ModelFileNotFound,MicroGpt.Commands.ImportModelCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].Exception.Message | Should -BeLike '*missing.json*'
        }

        It 'stops a script with -ErrorAction Stop' {
            { Import-Model -Path (Join-Path $TestDrive 'missing.json') -ErrorAction Stop } |
                Should -Throw -ErrorId 'ModelFileNotFound,MicroGpt.Commands.ImportModelCommand'
        }
    }

    Context 'relative paths' {
        BeforeEach {
            Push-Location -Path $TestDrive
        }

        AfterEach {
            Pop-Location
        }

        It 'Save-Model resolves a relative path against the PowerShell location' {
            $model | Save-Model -Path 'relative.json'
            Join-Path $TestDrive 'relative.json' | Should -Exist
            if ([System.Environment]::CurrentDirectory -ne (Get-Item -Path $TestDrive).FullName) {
                Join-Path ([System.Environment]::CurrentDirectory) 'relative.json' | Should -Not -Exist
            }
        }

        It 'Import-Model resolves a relative path against the PowerShell location' {
            $model | Save-Model -Path (Join-Path $TestDrive 'relative-in.json')
            $loaded = Import-Model -Path 'relative-in.json'
            Test-SameWeights $model.GetWeights() $loaded.GetWeights() | Should -BeTrue
        }

        It 'Save-Model -PassThru gives the full path of a relative one' {
            $file = $model | Save-Model -Path 'relative-passthru.json' -PassThru
            $file.FullName | Should -Be (Join-Path (Get-Item -Path $TestDrive).FullName 'relative-passthru.json')
        }
    }
}
