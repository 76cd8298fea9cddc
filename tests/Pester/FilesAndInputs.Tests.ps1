#Requires -Version 7.4
# Files and inputs that hold under abuse, as a user meets them: saves of a model another runspace
# is training, saves killed in a real pwsh, stale temporary files, resumed runs that keep their
# checkpoint interval, options that cannot work in float32, models that are not finite, and
# files that are not model files or not text.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    function Test-SameWeights([float[]] $Expected, [float[]] $Actual) {
        [System.Linq.Enumerable]::SequenceEqual($Expected, $Actual)
    }

    $corpus = 'the cat sat on the mat', 'the dog ran in the park', 'a bird sang in the tree', 'the cat saw a bird'
    $tokenizer = New-Tokenizer -Text $corpus
    function New-SmallModel([int] $Seed = 1) {
        New-Model -Tokenizer $tokenizer -EmbeddingSize 16 -Heads 2 -Layers 2 -BlockSize 8 -Seed $Seed
    }
}

Describe 'Save-Model of a model that another runspace is training' {
    It 'writes whole steps: every file loads, and its weights are those of a replay to the step it holds' {
        $model = New-SmallModel
        $module = Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1'
        $job = Start-ThreadJob -ArgumentList $model, $corpus, $module -ScriptBlock {
            param($Model, $Corpus, $Module)
            Import-Module $Module
            Invoke-Training -Model $Model -Text $Corpus -Steps 1000000 -ThreadCount 1 | Out-Null
        }
        try {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($model.Steps -lt 1) {
                if ($job.State -notin 'NotStarted', 'Running' -or $clock.Elapsed.TotalSeconds -gt 60) { throw "The training job did not start: $($job.State) $($job | Receive-Job 2>&1)" }
                Start-Sleep -Milliseconds 10
            }
            $saves = foreach ($i in 1..9) {
                $path = Join-Path $TestDrive "during$i.$(if ($i % 3 -eq 0) { 'safetensors' } else { 'json' })"
                Save-Model -Model $model -Path $path -IncludeOptimizerState:($i % 3 -eq 2)
                [pscustomobject]@{ Path = $path; WithOptimizer = $i % 3 -eq 2 }
            }
        } finally {
            $job | Stop-Job -PassThru | Remove-Job
        }
        $loaded = foreach ($save in $saves) {
            [pscustomobject]@{ Model = Import-Model -Path $save.Path -ErrorAction Stop; Path = $save.Path; WithOptimizer = $save.WithOptimizer }
        }
        ($loaded.Model.Steps | Select-Object -Unique).Count | Should -BeGreaterThan 1 -Because 'the saves were made while the run took steps'

        # Replays of the same run, stopped at the steps of the first files (Ctrl+C keeps every completed step).
        foreach ($file in $loaded | Sort-Object { $_.Model.Steps } | Select-Object -First 4) {
            $replay = New-SmallModel
            $steps = $file.Model.Steps
            if ($steps -gt 0) { Invoke-Training -Model $replay -Text $corpus -Steps 1000000 -ThreadCount 1 | Select-Object -First $steps | Out-Null }
            $replay.Steps | Should -Be $steps
            Test-SameWeights $replay.GetWeights() $file.Model.GetWeights() | Should -BeTrue -Because "the file of step $steps holds that step's weights, all of them"
            $file.Model.Loss | Should -Be $replay.Loss
            if ($file.WithOptimizer) {
                # The checksum covers the weights, the summary and Adam's state: the same step's, or they differ.
                $again = Join-Path $TestDrive "replay-$steps.json"
                Save-Model -Model $replay -Path $again -IncludeOptimizerState
                (Get-Content $file.Path -Raw | ConvertFrom-Json).checksum | Should -Be (Get-Content $again -Raw | ConvertFrom-Json).checksum
            }
        }
    }
}

Describe 'Saves killed with kill -9 in a real pwsh' {
    It 'leave the model of the last save that ended or of the one in progress, whole' -Skip:(-not $IsLinux) {
        # The process started is `dotnet pwsh.dll` itself: the dotnet host runs PowerShell inside the
        # process it starts, so killing it kills the saver (the pwsh launcher would start it as a child).
        $pwshDll = Join-Path $PSHOME 'pwsh.dll'
        $module = Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1'
        $folder = Join-Path $TestDrive 'kills'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $saver = @"
Import-Module '$module'
`$m = New-Model -Tokenizer (New-Tokenizer -Text 'the cat sat', 'the dog ran') -EmbeddingSize 32 -Layers 2 -Seed 1
`$w = `$m.GetWeights()
for (`$i = [int]`$args[0]; ; `$i++) {
    `$w[0] = `$i
    `$m.SetWeights(`$w)
    Save-Model -Model `$m -Path (Join-Path '$folder' `$args[1])
    [Console]::Out.WriteLine(`$i)
}
"@
        $script = Join-Path $TestDrive 'saver.ps1'
        Set-Content -Path $script -Value $saver
        $base = New-Model -Tokenizer (New-Tokenizer -Text 'the cat sat', 'the dog ran') -EmbeddingSize 32 -Layers 2 -Seed 1
        $dotnet = if ($env:DOTNET_HOST_PATH) { $env:DOTNET_HOST_PATH } else { 'dotnet' }
        $next = 0
        $kills = if ($env:MICROGPT_PWSH_KILLS) { [int]$env:MICROGPT_PWSH_KILLS } else { 4 } # a PowerShell start costs about a second
        $old = 0; $new = 0
        foreach ($file in (1..$kills | ForEach-Object { ('m.json', 'm.safetensors')[$_ % 2] })) {
            $start = [System.Diagnostics.ProcessStartInfo]::new($dotnet)
            foreach ($argument in $pwshDll, '-NoProfile', '-NonInteractive', '-File', $script, $next, $file) { $start.ArgumentList.Add([string]$argument) }
            $start.RedirectStandardOutput = $true
            $process = [System.Diagnostics.Process]::Start($start)
            try {
                $reported = @([int]$process.StandardOutput.ReadLine(), [int]$process.StandardOutput.ReadLine())
                Start-Sleep -Milliseconds (Get-Random -Minimum 0 -Maximum 20)
                (Get-Content "/proc/$($process.Id)/cmdline" -Raw).Split([char]0) | Should -Contain $pwshDll -Because 'the process killed runs PowerShell itself'
                $process.Kill()
                $process.WaitForExit()
                while ($null -ne ($line = $process.StandardOutput.ReadLine())) { $reported += [int]$line }
            } finally {
                $process.Dispose()
            }
            $last = ($reported | Measure-Object -Maximum).Maximum
            $loaded = Import-Model -Path (Join-Path $folder $file) -ErrorAction Stop
            $weights = $loaded.GetWeights()
            $weights[0] | Should -BeIn @($last, ($last + 1)) -Because 'the file holds the last save that ended, or the one in progress'
            if ($weights[0] -eq $last) { $old++ } else { $new++ }
            $expected = $base.GetWeights()
            $expected[0] = $weights[0]
            Test-SameWeights $expected $weights | Should -BeTrue
            $next = $last + 2
        }
        Write-Host "$kills kills of pwsh saving: $old files held the last save that ended, $new the save in progress"
        Save-Model -Model $base -Path (Join-Path $folder 'm.json')
        Save-Model -Model $base -Path (Join-Path $folder 'm.safetensors')
        Get-ChildItem -Path $folder -Force -Filter '*.microgpt-tmp' | Should -BeNullOrEmpty -Because 'the next save removes what a killed one left'
    }
}

Describe 'Temporary files' {
    BeforeEach {
        $folder = Join-Path $TestDrive ([guid]::NewGuid())
        New-Item -ItemType Directory -Path $folder | Out-Null
        $digits = '0123456789abcdef0123456789abcdef'
        $stale = ".m.json.$digits.microgpt-tmp", ".m.config.json.$digits.microgpt-tmp", ".m.safetensors.$digits.microgpt-tmp", ".ck.json.$digits.microgpt-tmp"
        $notOurs = ".m.json.$($digits.ToUpperInvariant()).microgpt-tmp", ".m.json.$digits.tmp", ".m.json.x$($digits.Substring(1)).microgpt-tmp", ".other.json.$digits.microgpt-tmp", 'notes.microgpt-tmp'
        foreach ($name in $stale + $notOurs) { Set-Content -Path (Join-Path $folder $name) -Value 'left behind' }
    }

    It 'are removed by the next Save-Model of the same target, and nothing else is' {
        $model = New-SmallModel
        Save-Model -Model $model -Path (Join-Path $folder 'm.json')
        Save-Model -Model $model -Path (Join-Path $folder 'm.safetensors')
        $left = (Get-ChildItem -Path $folder -Force -Filter '*.microgpt-tmp').Name + (Get-ChildItem -Path $folder -Force -Filter '*.tmp').Name
        # Names compared case-sensitively, as the file system does (-contains would not).
        $left -ccontains ".ck.json.$digits.microgpt-tmp" | Should -BeTrue -Because 'another target'
        foreach ($name in $notOurs) { $left -ccontains $name | Should -BeTrue -Because "$name is not ours" }
        foreach ($name in $stale | Where-Object { $_ -notlike '.ck.json.*' }) { $left -ccontains $name | Should -BeFalse -Because "$name was left by a killed save" }
    }

    It 'of a checkpoint are removed when its run resumes' {
        $model = New-SmallModel
        Invoke-Training -Model $model -Text $corpus -Steps 20 -CheckpointPath (Join-Path $folder 'first.json') | Select-Object -First 5 | Out-Null
        Copy-Item (Join-Path $folder 'first.json') (Join-Path $folder 'ck.json')
        Invoke-Training -Resume (Join-Path $folder 'ck.json') -Text $corpus | Select-Object -First 1 | Out-Null
        Test-Path (Join-Path $folder ".ck.json.$digits.microgpt-tmp") | Should -BeFalse
        foreach ($name in $notOurs) { Test-Path (Join-Path $folder $name) | Should -BeTrue }
    }
}

Describe 'A resumed run' {
    It 'keeps the checkpoint interval its run started with unless a new one is given' {
        $checkpoint = Join-Path $TestDrive 'interval.json'
        $model = New-SmallModel
        Invoke-Training -Model $model -Text $corpus -Steps 60 -CheckpointPath $checkpoint -CheckpointInterval 7 | Select-Object -First 10 | Out-Null
        (Import-Model $checkpoint).Steps | Should -Be 10 -Because 'a stopped run checkpoints its last step'
        # At step 15 the checkpoint holds step 14 if the interval is still 7 (the default 1000 would leave 10).
        $held = Invoke-Training -Resume $checkpoint -Text $corpus | Where-Object Step -EQ 15 | ForEach-Object { (Import-Model $checkpoint).Steps } | Select-Object -First 1
        $held | Should -Be 14
        $again = Join-Path $TestDrive 'interval-given.json'
        Copy-Item $checkpoint $again
        $held = Invoke-Training -Resume $again -Text $corpus -CheckpointInterval 4 | Where-Object Step -EQ 17 | ForEach-Object { (Import-Model $again).Steps } | Select-Object -First 1
        $held | Should -Be 16 -Because 'a new -CheckpointInterval replaces the run''s'
    }
}

Describe 'Training options and models that cannot work' {
    It 'refuses -Epsilon <Value>, which is 0 or a denormal in float32, up front, naming the value' -TestCases @(
        @{ Value = 1e-50; Shown = '1E-50' }
        @{ Value = 1e-40; Shown = '1E-40' }
    ) {
        $model = New-SmallModel
        $before = $model.GetWeights()
        $err = { Invoke-Training -Model $model -Text $corpus -Steps 3 -Epsilon $Value } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*Epsilon $Shown*float32*"
        Test-SameWeights $before $model.GetWeights() | Should -BeTrue
        $model.Steps | Should -Be 0
    }

    It 'gives <Command> a clean ModelNotFinite error for a model with a NaN weight' -TestCases @(
        @{ Command = 'Measure-Model'; Script = { param($m) Measure-Model -Model $m -Text 'the cat sat' } }
        @{ Command = 'Invoke-Generation'; Script = { param($m) Invoke-Generation -Model $m -Seed 1 } }
        @{ Command = 'Save-Model'; Script = { param($m) Save-Model -Model $m -Path (Join-Path $TestDrive 'nan.json') } }
        @{ Command = 'Invoke-Training'; Script = { param($m) Invoke-Training -Model $m -Text 'the cat sat' -Steps 2 } }
    ) {
        $model = New-SmallModel
        $weights = $model.GetWeights()
        $weights[3] = [float]::NaN
        $model.SetWeights($weights)
        $err = { & $Script $model } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'ModelNotFinite,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.Exception.Message | Should -BeLike '*wte`[0, 3`] is NaN*'
    }
}

Describe 'Memory checks' {
    It 'count what the process already holds, against the limit the runtime has (here a 256 MiB heap), not the machine''s memory' {
        # A model whose training needs 130 MiB fits a fresh process under a 256 MiB heap limit, and no
        # longer once the process holds 150 MB; the machine has far more either way.
        $script = Join-Path $TestDrive 'memory.ps1'
        Set-Content -Path $script -Value @"
Import-Module '$(Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1')'
try { `$null = New-Model -EmbeddingSize 128 -Layers 24; 'accepted' } catch { `$_.FullyQualifiedErrorId }
`$held = [byte[]]::new(150MB)
try { `$null = New-Model -EmbeddingSize 128 -Layers 24; 'accepted' } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }
"@
        $start = [System.Diagnostics.ProcessStartInfo]::new($(if ($env:DOTNET_HOST_PATH) { $env:DOTNET_HOST_PATH } else { 'dotnet' }))
        foreach ($argument in (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $script) { $start.ArgumentList.Add($argument) }
        $start.Environment['DOTNET_GCHeapHardLimit'] = '0x10000000'
        $start.RedirectStandardOutput = $true
        $process = [System.Diagnostics.Process]::Start($start)
        $output = $process.StandardOutput.ReadToEnd() -split "`n" | Where-Object { $_ }
        $process.WaitForExit()
        $output[0] | Should -Be 'accepted'
        $output[1] | Should -Be 'InvalidConfiguration,MicroGpt.Commands.NewModelCommand'
        $output[2] | Should -BeLike '*training it needs 130 MiB, more than the * MiB this process can still get*'
    }
}

Describe 'Files that are not model files' {
    It 'Import-Model refuses <Name> at once, naming it' -Skip:(-not $IsLinux) -TestCases @(
        @{ Name = 'a pipe'; Make = { $p = Join-Path $TestDrive 'pipe.json'; & mkfifo $p; $p } }
        @{ Name = '/dev/zero'; Make = { '/dev/zero' } }
        @{ Name = 'a folder'; Make = { $p = Join-Path $TestDrive 'folder.json'; New-Item -ItemType Directory -Path $p -Force | Out-Null; $p } }
    ) {
        $path = & $Make
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $result = Import-Model -LiteralPath $path -ErrorVariable err -ErrorAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because 'a pipe with no writer or an endless device must not hang the command'
        $result | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeIn 'ModelFileCorrupt,MicroGpt.Commands.ImportModelCommand', 'ModelFileNotFound,MicroGpt.Commands.ImportModelCommand'
        $err[0].Exception.Message | Should -BeLike "*$path*"
        $err[0].Exception.Message | Should -Match 'not a regular file|is a folder'
    }

    It 'Import-Model reads a safetensors file alone, and its own description wins over a configuration beside it' {
        $trained = New-SmallModel -Seed 2
        Invoke-Training -Model $trained -Text $corpus -Steps 5 | Out-Null
        $path = Join-Path $TestDrive 'alone.safetensors'
        Save-Model -Model $trained -Path $path
        $other = Join-Path $TestDrive 'other.safetensors'
        New-Model -EmbeddingSize 8 -Heads 2 -Layers 1 | Save-Model -Path $other
        Copy-Item ($other -replace 'safetensors$', 'config.json') ($path -replace 'safetensors$', 'config.json') -Force
        $loaded = Import-Model $path
        Test-SameWeights $trained.GetWeights() $loaded.GetWeights() | Should -BeTrue
        $loaded.Steps | Should -Be 5
        Remove-Item ($path -replace 'safetensors$', 'config.json')
        (Import-Model $path).Steps | Should -Be 5
    }
}

Describe 'Corpora that are not text' {
    It 'Invoke-Training refuses <Name> with InvalidCorpus naming the file, line and byte' -TestCases @(
        @{ Name = 'a NUL byte'; Bytes = [byte[]](0x74, 0x68, 0x65, 0x0A, 0x63, 0x00, 0x74); Where = 'line 2, byte 2' }
        @{ Name = 'UTF-16 without a byte-order mark'; Bytes = [System.Text.Encoding]::Unicode.GetBytes("the cat`n"); Where = 'line 1, byte 2'; Hint = 'UTF-16' }
        @{ Name = 'invalid UTF-8'; Bytes = [byte[]](0x61, 0x20, 0x62, 0xC3, 0x28); Where = 'line 1, byte 4'; Hint = 'not UTF-8' }
        @{ Name = 'an escape character'; Bytes = [byte[]](0x61, 0x1B, 0x5B, 0x6D); Where = 'line 1, byte 2'; Hint = 'U+001B' }
    ) {
        $file = Join-Path $TestDrive 'bad.txt'
        [System.IO.File]::WriteAllBytes($file, $Bytes)
        $err = { Invoke-Training -Path $file -Steps 3 } | Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*'$file' $Where*"
        if ($Hint) { $err.Exception.Message | Should -BeLike "*$Hint*" }
    }

    It 'refuses a program, /dev/zero and /dev/urandom at once' -Skip:(-not $IsLinux) {
        foreach ($path in (Get-Command ls).Source, '/dev/zero', '/dev/urandom') {
            $err = { New-Tokenizer -Path $path } | Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.NewTokenizerCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*$path*"
        }
    }

    It 'trains on UTF-16 with a byte-order mark as on UTF-8' {
        $utf16 = Join-Path $TestDrive 'utf16.txt'
        $utf8 = Join-Path $TestDrive 'utf8.txt'
        Set-Content -Path $utf16 -Value $corpus -Encoding unicode
        Set-Content -Path $utf8 -Value $corpus -Encoding utf8NoBOM
        (New-Tokenizer -Path $utf16).Vocabulary | Should -Be (New-Tokenizer -Path $utf8).Vocabulary
        $a = New-SmallModel; $b = New-SmallModel
        Invoke-Training -Model $a -Path $utf16 -Steps 5 | Out-Null
        Invoke-Training -Model $b -Path $utf8 -Steps 5 | Out-Null
        Test-SameWeights $a.GetWeights() $b.GetWeights() | Should -BeTrue
    }

    It 'refuses a line longer than 1 MiB naming the line, and a vocabulary too large suggesting a character tokenizer' {
        $long = Join-Path $TestDrive 'long.txt'
        [System.IO.File]::WriteAllText($long, "short line`n" + (((1..250000) -replace '^', 'w') -join ' '))
        $err = { New-Tokenizer -Path $long } | Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.NewTokenizerCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*'$long' line 2 is longer than 1,048,576 bytes*"

        $many = Join-Path $TestDrive 'many.txt'
        $words = (0..140999) -replace '^', 'w'
        [System.IO.File]::WriteAllLines($many, [string[]](0..140 | ForEach-Object { $words[($_ * 1000)..($_ * 1000 + 999)] -join ' ' }))
        $err = { Invoke-Training -Path $many -Steps 1 } | Should -Throw -ErrorId 'InvalidCorpus,MicroGpt.Commands.InvokeTrainingCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*more than 131,072 distinct words (line 132 brings one more)*-Kind Character*"
    }
}
