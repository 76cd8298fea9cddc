#Requires -Version 7.4
# New-Tokenizer and Get-Tokens: vocabularies (word and character), pipeline input, encoding
# with BOS at both ends, and unknown words.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force
}

Describe 'New-Tokenizer' {
    It 'builds the default corpus''s word vocabulary when given nothing' {
        $tokenizer = New-Tokenizer
        $tokenizer | Should -BeOfType MicroGpt.Tokenizer
        $tokenizer.Kind | Should -Be 'Word'
        $tokenizer.Vocabulary.Count | Should -BeGreaterThan 0
        $tokenizer.Bos | Should -Be $tokenizer.Vocabulary.Count
        $tokenizer.VocabSize | Should -Be ($tokenizer.Vocabulary.Count + 1)
    }

    It 'keeps the distinct lower-cased words of -Text in ordinal order' {
        $tokenizer = New-Tokenizer -Text 'The cat sat', 'the dog ran', 'THE CAT RAN'
        $tokenizer.Vocabulary | Should -Be 'cat', 'dog', 'ran', 'sat', 'the'
        $tokenizer.Bos | Should -Be 5
        $tokenizer.VocabSize | Should -Be 6
    }

    It 'sorts the vocabulary ordinally' {
        $vocabulary = (New-Tokenizer).Vocabulary
        $sorted = [System.Collections.Generic.List[string]]::new($vocabulary)
        $sorted.Sort([System.StringComparer]::Ordinal)
        $vocabulary | Should -Be $sorted.ToArray()
        $vocabulary | Select-Object -Unique | Should -HaveCount $vocabulary.Count
    }

    It 'reads -Text from the pipeline into one tokenizer, skipping blank lines' {
        $tokenizers = 'The cat sat', '', '   ', 'the dog ran' | New-Tokenizer
        $tokenizers | Should -HaveCount 1
        $tokenizers.Vocabulary | Should -Be 'cat', 'dog', 'ran', 'sat', 'the'
    }

    It 'splits a multi-line string into sentences' {
        (New-Tokenizer -Text "the cat sat`nthe dog ran").Vocabulary | Should -Be 'cat', 'dog', 'ran', 'sat', 'the'
    }

    It 'keeps the distinct characters with -Kind Character, case and all' {
        $tokenizer = 'Emma', 'olivia', 'ava' | New-Tokenizer -Kind Character
        $tokenizer.Kind | Should -Be 'Character'
        $tokenizer.Vocabulary | Should -Be 'E', 'a', 'i', 'l', 'm', 'o', 'v'
        $tokenizer.Bos | Should -Be 7
    }

    It 'reads -Path files, relative to the PowerShell location' {
        Set-Content -Path (Join-Path $TestDrive 'words.txt') -Value 'the cat sat', '', 'the dog ran'
        Push-Location -Path $TestDrive
        try {
            $tokenizer = New-Tokenizer -Path 'words.txt'
        }
        finally {
            Pop-Location
        }
        $tokenizer.Vocabulary | Should -Be 'cat', 'dog', 'ran', 'sat', 'the'
    }

    It 'completes -Kind with the tokenizer kinds' {
        $line = 'New-Tokenizer -Kind '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object | Should -Be 'Bpe', 'Character', 'Word'
    }
}

Describe 'Get-Tokens' {
    BeforeAll {
        $tokenizer = New-Tokenizer -Text 'the cat sat', 'the dog ran'
    }

    It 'writes one MicroGpt.TokenizedText per text, with Text, Tokens, Ids and Count' {
        $result = 'the cat sat', 'the dog ran' | Get-Tokens -Tokenizer $tokenizer
        $result | Should -HaveCount 2
        $result | Should -BeOfType MicroGpt.TokenizedText
        $result[0].PSObject.Properties.Name | Should -Be 'Text', 'Tokens', 'Ids', 'Count'
    }

    It 'begins and ends the Ids with BOS' {
        $result = Get-Tokens -Text 'the cat sat' -Tokenizer $tokenizer
        $result.Ids | Should -Be 5, 4, 0, 3, 5
        $result.Ids[0] | Should -Be $tokenizer.Bos
        $result.Ids[-1] | Should -Be $tokenizer.Bos
        $result.Tokens | Should -Be '<BOS>', 'the', 'cat', 'sat', '<BOS>'
        $result.Count | Should -Be 5
        $result.Text | Should -Be 'the cat sat'
    }

    It 'lower-cases and trims the text as training does' {
        (Get-Tokens -Text '  The CAT sat ' -Tokenizer $tokenizer).Text | Should -Be 'the cat sat'
    }

    It 'encodes with the default corpus''s tokenizer when given none' {
        $default = New-Tokenizer
        $result = Get-Tokens 'the cat sat'
        $result.Ids[0] | Should -Be $default.Bos
        $result.Ids[-1] | Should -Be $default.Bos
        $result.Tokens | Should -Be '<BOS>', 'the', 'cat', 'sat', '<BOS>'
    }

    It 'encodes with a model''s tokenizer given -Model' {
        $model = New-Model -Tokenizer $tokenizer -EmbeddingSize 8 -Heads 2 -Layers 1
        (Get-Tokens -Text 'the dog ran' -Model $model).Ids | Should -Be 5, 4, 1, 2, 5
    }

    It 'encodes the lines of a file from Get-Content, skipping blank ones' {
        $file = Join-Path $TestDrive 'sentences.txt'
        Set-Content -Path $file -Value 'the cat sat', '', 'the dog ran'
        $result = Get-Content -Path $file | Get-Tokens -Tokenizer $tokenizer
        $result.Text | Should -Be 'the cat sat', 'the dog ran'
    }

    It 'encodes characters with a character tokenizer' {
        $characters = New-Tokenizer -Text 'emma', 'ava' -Kind Character
        $result = Get-Tokens -Text 'emma' -Tokenizer $characters
        $result.Tokens | Should -Be '<BOS>', 'e', 'm', 'm', 'a', '<BOS>'
        $result.Ids[0] | Should -Be $characters.Bos
        $result.Ids[-1] | Should -Be $characters.Bos
    }

    It 'reports an unknown word as UnknownToken naming the word, and still encodes the other texts' {
        $result = 'the cat sat', 'the zebra sat', 'the dog ran' | Get-Tokens -Tokenizer $tokenizer -ErrorVariable err -ErrorAction SilentlyContinue
        $result.Text | Should -Be 'the cat sat', 'the dog ran'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'UnknownToken,MicroGpt.Commands.GetTokensCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be 'the zebra sat'
        $err[0].Exception.Message | Should -BeLike "*'zebra'*"
    }

    It 'stops at an unknown word with -ErrorAction Stop' {
        { Get-Tokens -Text 'the zebra sat' -Tokenizer $tokenizer -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnknownToken,MicroGpt.Commands.GetTokensCommand'
    }
}
