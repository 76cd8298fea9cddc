#Requires -Version 7.4
# Looking inside a model: Get-Prediction, Get-Attention, Export-AttentionMap, Find-SimilarToken,
# in real pwsh, as a learner types them.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force
    $model = New-Model -Seed 1
    $null = Invoke-Training -Model $model -Steps 500
}

Describe 'Get-Prediction' {
    It 'writes -Top candidates, most likely first, whose probabilities a full list adds up to 1' {
        $top = Get-Prediction -Model $model -Prompt 'the cat' -Top 4
        $top | Should -HaveCount 4
        $top | Should -BeOfType MicroGpt.Prediction
        # ForEach-Object: an array's own Rank (its number of dimensions, 1) hides its items' Rank from $top.Rank
        ($top | ForEach-Object Rank) -join ' ' | Should -Be '1 2 3 4'
        ($top.Probability | Sort-Object -Descending) -join ' ' | Should -Be ($top.Probability -join ' ')
        $all = Get-Prediction -Model $model -Prompt 'the cat' -Top 100000
        $all | Should -HaveCount $model.VocabSize
        ($all | Measure-Object Probability -Sum).Sum | Should -BeGreaterThan 0.9999
        ($all | Measure-Object Probability -Sum).Sum | Should -BeLessThan 1.0001
    }

    It 'finds the surprises of a sentence with Sort-Object Probability' {
        $each = $model | Get-Prediction 'the bird flew' -Each
        $each.Token | Should -Be 'the', 'bird', 'flew', '<BOS>'
        $least = $each | Sort-Object Probability | Select-Object -First 1
        $least.Probability | Should -Be ($each.Probability | Measure-Object -Minimum).Minimum
        $each | Where-Object Rank -eq 1 | ForEach-Object { $_.Expected | Should -Be $_.Token }
    }

    It 'shows a character model''s space and line end as visible signs, and keeps them as they are in the objects' {
        $characters = New-Model -Tokenizer (New-Tokenizer -Text "ab ba`nab ab`n" -Stream) -EmbeddingSize 16 -Layers 1 -BlockSize 8 -Seed 1
        $all = Get-Prediction -Model $characters -Prompt 'ab' -Stream -Top 10
        $all.Token | Should -Contain ' '
        $all.Token | Should -Contain "`n"
        $shown = ($all | Format-Table | Out-String) -split "`n" | ForEach-Object Trim
        $shown | Where-Object { $_ -match '^\d+\s+\u2423\s' } | Should -HaveCount 1
        $shown | Where-Object { $_ -match '^\d+\s+\u21B5\s' } | Should -HaveCount 1
        $each = Get-Prediction -Model $characters -Prompt "ab ba`n" -Stream -Each
        ($each | Format-Table | Out-String) | Should -Match '\u2423'
        $each.Expected | Should -Contain ' '
    }

    It 'says which word is unknown' {
        { Get-Prediction -Model $model -Prompt 'the zebra' -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.GetPredictionCommand' -ExpectedMessage "*'zebra'*"
    }
}

Describe 'Get-Attention and Export-AttentionMap' {
    It 'writes weights whose rows add up to 1' {
        $weights = Get-Attention -Model $model -Text 'the cat eats a cake'
        $weights | Should -HaveCount (2 * 4 * 6 * 7 / 2)
        $weights | Group-Object Layer, Head, QueryPosition | ForEach-Object {
            ($_.Group | Measure-Object Weight -Sum).Sum | Should -BeGreaterThan 0.9999
        }
    }

    It 'draws them in an SVG file with the tokens on its axes' {
        $path = Join-Path $TestDrive 'att.svg'
        Get-Attention -Model $model -Text 'the cat eats a cake' | Export-AttentionMap $path
        [xml] $svg = Get-Content -Raw $path
        $svg.svg.text | Where-Object class -eq 'key' | ForEach-Object '#text' | Select-Object -First 6 |
            Should -Be '<BOS>', 'the', 'cat', 'eats', 'a', 'cake'
    }

    It 'names a head the model does not have' {
        { Get-Attention -Model $model -Text 'the cat' -Head 4 -ErrorAction Stop } |
            Should -Throw -ErrorId 'HeadOutOfRange,MicroGpt.Commands.GetAttentionCommand' -ExpectedMessage '*no head 4*'
    }
}

Describe 'Find-SimilarToken' {
    It 'writes -Count neighbours, nearest first, without the token itself' {
        $near = Find-SimilarToken -Model $model -Token cat -Count 5
        $near | Should -HaveCount 5
        $near.Token | Should -Not -Contain 'cat'
        ($near.Similarity | Sort-Object -Descending) -join ' ' | Should -Be ($near.Similarity -join ' ')
    }
}
