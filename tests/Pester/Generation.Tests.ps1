#Requires -Version 7.4
# What a trained model is for: Invoke-Generation (samples), Measure-Model (held-out loss) and
# Export-LossChart (an SVG of a training run).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    # Trained enough to write sentence-like samples; the numbers below do not depend on how well.
    $model = New-Model -Seed 1
    $null = Invoke-Training -Model $model -Steps 500
    $vocabulary = $model.GetTokenizer().Vocabulary
}

Describe 'Invoke-Generation' {
    It 'writes MicroGpt.Sample objects whose Text is their Tokens' {
        $samples = Invoke-Generation -Model $model -Count 5 -Seed 1
        $samples | Should -BeOfType MicroGpt.Sample
        foreach ($sample in $samples) {
            $sample.Text | Should -Be ($sample.Tokens -join ' ')
            $sample.Ids | Should -HaveCount $sample.Tokens.Count
            $sample.MeanLogProbability | Should -BeLessOrEqual 0
        }
    }

    It 'writes -Count <Count> samples' -TestCases @(
        @{ Count = 1 }
        @{ Count = 7 }
    ) {
        Invoke-Generation -Model $model -Count $Count -Seed 1 | Should -HaveCount $Count
    }

    It 'samples only words of the vocabulary' {
        $samples = Invoke-Generation -Model $model -Count 20 -Seed 2 -Temperature 1.5
        $samples.Tokens | Where-Object { $_ -cnotin $vocabulary } | Should -BeNullOrEmpty
    }

    It 'gives the same samples for the same -Seed' {
        $first = Invoke-Generation -Model $model -Count 5 -Seed 11
        $second = Invoke-Generation -Model $model -Count 5 -Seed 11
        $second.Text | Should -Be $first.Text
    }

    It 'gives other samples for another -Seed' {
        $first = Invoke-Generation -Model $model -Count 5 -Seed 1
        $second = Invoke-Generation -Model $model -Count 5 -Seed 2
        ($second.Text -join '|') | Should -Not -Be ($first.Text -join '|')
    }

    It 'continues the -Prompt' {
        $samples = Invoke-Generation -Model $model -Prompt 'The cat' -Count 5 -Seed 1
        foreach ($sample in $samples) {
            $sample.Text | Should -BeLike 'the cat*'
            $sample.Tokens[0..1] | Should -Be 'the', 'cat'
        }
    }

    It 'writes -Count different sentences with -Unique' {
        $samples = Invoke-Generation -Model $model -Count 30 -Unique -Seed 1
        $samples | Should -HaveCount 30
        $samples.Text | Select-Object -Unique | Should -HaveCount 30
    }

    It 'is deterministic at -Temperature 0, whatever the seed' {
        $samples = @(Invoke-Generation -Model $model -Temperature 0 -Count 3 -Seed 1) + @(Invoke-Generation -Model $model -Temperature 0 -Seed 2)
        $samples.Text | Select-Object -Unique | Should -HaveCount 1
    }

    It 'picks the most likely word with -TopK 1, as -Temperature 0 does' {
        (Invoke-Generation -Model $model -TopK 1 -Seed 5).Text | Should -Be (Invoke-Generation -Model $model -Temperature 0).Text
    }

    It 'takes the model from the pipeline' {
        $model | Invoke-Generation -Count 2 -Seed 1 | Should -HaveCount 2
    }

    It 'warns that it samples an untrained model when given none' {
        $samples = Invoke-Generation -Count 2 -Seed 1 -WarningVariable warnings -WarningAction SilentlyContinue
        $samples | Should -HaveCount 2
        $warnings | Should -HaveCount 1
    }
}

Describe 'Measure-Model' {
    BeforeAll {
        $heldOut = 'the cat sat', 'i like my dog'
    }

    It 'writes a MicroGpt.Measurement with Loss, Perplexity, Sentences, Tokens and Windows (0 for sentences)' {
        $measurement = Measure-Model -Model $model -Text $heldOut
        $measurement | Should -BeOfType MicroGpt.Measurement
        $measurement.PSObject.Properties.Name | Should -Be 'Loss', 'Perplexity', 'Sentences', 'Tokens', 'Windows'
        $measurement.Windows | Should -Be 0
    }

    It 'gives Perplexity = exp(Loss)' {
        $measurement = Measure-Model -Model $model -Text $heldOut
        $measurement.Loss | Should -BeGreaterThan 0
        $measurement.Perplexity | Should -Be ([math]::Exp($measurement.Loss))
    }

    It 'counts the sentences and the predicted tokens (each sentence''s words and the closing BOS)' {
        $measurement = Measure-Model -Model $model -Text $heldOut
        $measurement.Sentences | Should -Be 2
        $measurement.Tokens | Should -Be (4 + 5)
    }

    It 'gives a trained model a lower loss than an untrained one' {
        $untrained = Measure-Model -Model (New-Model -Seed 1) -Text $heldOut
        (Measure-Model -Model $model -Text $heldOut).Loss | Should -BeLessThan $untrained.Loss
    }

    It 'reads -Path files' {
        $file = Join-Path $TestDrive 'held-out.txt'
        Set-Content -Path $file -Value $heldOut
        (Measure-Model -Model $model -Path $file).Loss | Should -Be (Measure-Model -Model $model -Text $heldOut).Loss
    }

    It 'measures a model from the pipeline on the default corpus' {
        $measurement = $model | Measure-Model
        $measurement.Sentences | Should -BeGreaterThan 0
        $measurement.Perplexity | Should -Be ([math]::Exp($measurement.Loss))
    }

    It 'gives the same loss whatever -ThreadCount' {
        (Measure-Model -Model $model -Text $heldOut -ThreadCount 1).Loss | Should -Be (Measure-Model -Model $model -Text $heldOut -ThreadCount 2).Loss
    }
}

Describe 'Export-LossChart' {
    BeforeAll {
        $log = Join-Path $TestDrive 'run.csv'
        $steps = Invoke-Training -Model (New-Model -Seed 2) -Steps 50 -ValidationFraction 0.1 -LogPath $log
    }

    It 'draws TrainingStep objects as an SVG file' {
        $chart = Join-Path $TestDrive 'steps.svg'
        $steps | Export-LossChart -Path $chart
        $chart | Should -Exist
        $svg = [xml](Get-Content -Path $chart -Raw)
        $svg.DocumentElement.LocalName | Should -Be 'svg'
        $svg.DocumentElement.NamespaceURI | Should -Be 'http://www.w3.org/2000/svg'
    }

    It 'draws the rows of a -LogPath file read by Import-Csv' {
        $chart = Join-Path $TestDrive 'csv.svg'
        Import-Csv -Path $log | Export-LossChart -Path $chart
        ([xml](Get-Content -Path $chart -Raw)).DocumentElement.LocalName | Should -Be 'svg'
    }

    It 'writes the -Title, -Width and -Height' {
        $chart = Join-Path $TestDrive 'titled.svg'
        $steps | Export-LossChart -Path $chart -Title 'lr <0.01> & more' -Width 640 -Height 360
        $svg = [xml](Get-Content -Path $chart -Raw)
        $svg.svg.width | Should -Be '640'
        $svg.svg.height | Should -Be '360'
        $svg.svg.text.InnerText | Should -Contain 'lr <0.01> & more'
    }

    It '-PassThru writes the chart''s FileInfo' {
        $chart = Join-Path $TestDrive 'passthru.svg'
        $file = $steps | Export-LossChart -Path $chart -PassThru
        $file | Should -BeOfType System.IO.FileInfo
        $file.FullName | Should -Be (Get-Item -Path $chart).FullName
    }

    It '-WhatIf writes nothing' {
        $chart = Join-Path $TestDrive 'whatif.svg'
        $steps | Export-LossChart -Path $chart -WhatIf
        $chart | Should -Not -Exist
    }

    It 'resolves a relative path against the PowerShell location' {
        Push-Location -Path $TestDrive
        try {
            $steps | Export-LossChart -Path 'relative.svg'
        }
        finally {
            Pop-Location
        }
        Join-Path $TestDrive 'relative.svg' | Should -Exist
    }
}
