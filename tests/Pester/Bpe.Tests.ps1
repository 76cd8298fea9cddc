#Requires -Version 7.4
# A byte-level BPE tokenizer on a user's path: New-Tokenizer -Kind Bpe, a model over it trained in
# sentence mode, saved and imported in both formats, Get-Tokens, Encode and Decode from a script,
# and a -VocabSize that cannot be.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1') -Force

    # Whether two models' weights are the same bits (-0 and 0 differ, a NaN equals itself).
    function Test-SameWeightBits($Expected, $Actual) {
        $bits = foreach ($model in $Expected, $Actual) {
            $weights = $model.GetWeights()
            $bytes = [byte[]]::new(4 * $weights.Length)
            [Buffer]::BlockCopy($weights, 0, $bytes, 0, $bytes.Length)
            , $bytes
        }
        [System.Linq.Enumerable]::SequenceEqual([byte[]]$bits[0], [byte[]]$bits[1])
    }

    $questions = Join-Path (Get-Module MicroGpt).ModuleBase 'data/questions.txt'
    $bpe = New-Tokenizer -Kind Bpe -VocabSize 400 -Path $questions
}

Describe 'New-Tokenizer -Kind Bpe' {
    It 'learns a tokenizer of -VocabSize tokens, BOS included, the bytes first' {
        $bpe | Should -BeOfType MicroGpt.Tokenizer
        $bpe.Kind | Should -Be 'Bpe'
        $bpe.VocabSize | Should -Be 400
        $bpe.Bos | Should -Be 399
        $bpe.Vocabulary.Count | Should -Be 399
        $bpe.Vocabulary[[int][char]'a'] | Should -Be 'a'
        $bpe.Vocabulary[10] | Should -Be '\u000A'   # the newline byte, shown as an escape
    }

    It 'learns the same merges from -Path, Get-Content and Get-Item' {
        $fromContent = Get-Content $questions | New-Tokenizer -Kind Bpe -VocabSize 400
        $fromItem = Get-Item $questions | New-Tokenizer -Kind Bpe -VocabSize 400
        $fromContent.Vocabulary | Should -Be $bpe.Vocabulary
        $fromItem.Vocabulary | Should -Be $bpe.Vocabulary
    }

    It 'shows its first merges in the table' {
        $table = $bpe | Format-Table | Out-String
        $table | Should -Match "Bpe\s+400\s+399\s+'"
    }

    It 'refuses a -VocabSize of <Value> with InvalidConfiguration naming it, and writes nothing' -ForEach @(
        @{ Value = 256; Message = '*VocabSize 256 must be between 257 (the 256 byte tokens and BOS)*' }
        @{ Value = 131074; Message = '*VocabSize 131074 must be between 257*131,073*' }
        @{ Value = 100000; Message = '*VocabSize 100000 is more than this text allows*so it allows at most*' }
    ) {
        $result = $null
        { $script:result = New-Tokenizer -Kind Bpe -VocabSize $Value -Path $questions } |
            Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand' -ExpectedMessage $Message
        $script:result | Should -BeNullOrEmpty
        try { New-Tokenizer -Kind Bpe -VocabSize $Value -Path $questions } catch { $_.TargetObject | Should -Be $Value }
    }

    It 'asks for -VocabSize with -Kind Bpe, and refuses it with -Kind Word' {
        { New-Tokenizer -Kind Bpe -Path $questions } | Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand' -ExpectedMessage '*needs a VocabSize*'
        { New-Tokenizer -Kind Word -VocabSize 300 } | Should -Throw -ErrorId 'InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand' -ExpectedMessage '*VocabSize 300 is for the kinds that learn to a size (Bpe)*'
    }
}

Describe 'Encode and Decode from a script' {
    It 'gives back <Name> exactly, with no unknown token' -ForEach @(
        @{ Name = 'a sentence of the corpus'; Text = 'where is your bag' }
        @{ Name = 'capitals and punctuation it never saw'; Text = 'WHERE is Zoë''s bag?!' }
        @{ Name = 'emoji and other scripts'; Text = "🦓 and 🍕, 你好, naïve café`tend" }
    ) {
        $ids = $bpe.Encode($Text)
        $ids | Should -BeOfType [int]
        $ids | ForEach-Object { $_ | Should -BeLessThan $bpe.Bos }
        $bpe.Decode($ids) | Should -BeExactly $Text
        # An array that PowerShell builds (object[]) is taken too, and BOS decodes to nothing.
        $bpe.Decode(@($bpe.Bos) + @($ids | ForEach-Object { $_ }) + @($bpe.Bos)) | Should -BeExactly $Text
    }
}

Describe 'Get-Tokens with a BPE tokenizer' {
    It 'shows the pieces, each byte of an unseen emoji as \xNN, between BOS' {
        $result = Get-Tokens -Text 'where is the 🦓' -Tokenizer $bpe
        $result.Tokens[0] | Should -Be '<BOS>'
        $result.Tokens[-1] | Should -Be '<BOS>'
        $result.Tokens[-5..-2] | Should -Be '\xF0', '\x9F', '\xA6', '\x93'
        (-join $result.Tokens[1..($result.Count - 6)]) | Should -Be 'where is the '
        $result.Ids[0] | Should -Be $bpe.Bos
    }

    It 'keeps the case and writes no error for text the tokenizer never saw' {
        $result = 'Where IS the ZEBRA', 'ünïcödé' | Get-Tokens -Tokenizer $bpe -ErrorVariable err
        $err | Should -HaveCount 0
        $result.Text | Should -Be 'Where IS the ZEBRA', 'ünïcödé'
    }
}

Describe 'A BPE model in sentence mode' {
    BeforeAll {
        $model = New-Model -Tokenizer $bpe -EmbeddingSize 32 -Layers 1 -BlockSize 32 -Seed 3
        $rows = Invoke-Training -Model $model -Path $questions -Steps 50 -BatchSize 4
    }

    It 'trains 50 steps, each sentence encoded and wrapped in BOS, and the loss falls' {
        $rows | Should -HaveCount 50
        $first = ($rows | Select-Object -First 5 | Measure-Object Loss -Average).Average
        $last = ($rows | Select-Object -Last 5 | Measure-Object Loss -Average).Average
        $first | Should -BeGreaterThan 5.5       # about ln(400), uniform over the vocabulary
        $last | Should -BeLessThan ($first - 1)
        $model.VocabSize | Should -Be 400
        $model.Steps | Should -Be 50
    }

    It 'saves to <File> and imports bit for bit, tokenizer included' -ForEach @(
        @{ File = 'bpe.json' }
        @{ File = 'bpe.safetensors' }
    ) {
        $path = Join-Path $TestDrive $File
        $model | Save-Model -Path $path
        $loaded = Import-Model -Path $path
        $loaded.VocabSize | Should -Be 400
        $loaded.GetTokenizer().Kind | Should -Be 'Bpe'
        $loaded.GetTokenizer().Vocabulary | Should -Be $bpe.Vocabulary
        $loaded.GetTokenizer().Encode('Zoë asks 🦓?') | Should -Be $bpe.Encode('Zoë asks 🦓?')
        Test-SameWeightBits $model $loaded | Should -BeTrue
        (Measure-Model -Model $loaded -Path $questions).Loss | Should -Be (Measure-Model -Model $model -Path $questions).Loss
    }

    It 'samples text that its tokenizer decodes, from a prompt it never saw' {
        $samples = Invoke-Generation -Model $model -Count 3 -Prompt 'Where' -Seed 1
        $samples | Should -HaveCount 3
        $samples | ForEach-Object { $_.Text | Should -BeLike 'Where*' }
    }
}
