# Module manifest for MicroGpt. The build copies it to out/MicroGpt and replaces the version
# with the one in Directory.Build.props.
@{
    RootModule           = 'MicroGpt.Cmdlets.dll'
    ModuleVersion        = '0.0.0'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    GUID                 = '6f1f3c2e-8b0a-4f5e-9d4c-2a7b1e5c9d30'
    Author               = 'MicroGpt contributors'
    CompanyName          = 'MicroGpt contributors'
    Copyright            = '(c) MicroGpt contributors. MIT License.'
    Description          = 'Train, save, load and sample tiny GPT language models on a laptop CPU: the word-level GPT of the "LLMs, the hard way" tutorial (63,296 parameters, Adam), with the same numbers, thousands of times faster, as a stream of PowerShell objects.'
    # Everything the build assembles into the module folder, and so everything the package carries.
    FileList             = @(
        'MicroGpt.psd1'
        'MicroGpt.Cmdlets.dll'
        'MicroGpt.Cmdlets.pdb'
        'MicroGpt.Engine.dll'
        'MicroGpt.Engine.pdb'
        'MicroGpt.format.ps1xml'
        'LICENSE'
        'en-US/MicroGpt.Cmdlets.dll-Help.xml'
        'en-US/about_MicroGpt.help.txt'
        'data/sentences.txt'
        'data/questions.txt'
        'data/names.txt'
    )
    RequiredAssemblies   = @('MicroGpt.Engine.dll')
    FormatsToProcess     = @('MicroGpt.format.ps1xml')
    CmdletsToExport      = @(
        'New-Tokenizer'
        'Get-Tokens'
        'New-Model'
        'Invoke-Training'
        'Save-Model'
        'Import-Model'
        'Invoke-Generation'
        'Measure-Model'
        'Export-LossChart'
        'Get-Prediction'
        'Get-Attention'
        'Export-AttentionMap'
        'Find-SimilarToken'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('GPT', 'Transformer', 'LanguageModel', 'MachineLearning', 'NeuralNetwork', 'Training', 'Tutorial', 'PSEdition_Core')
            LicenseUri   = 'https://github.com/microgpt/microgpt/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/microgpt/microgpt'
            ReleaseNotes = 'What changed in each version: https://github.com/microgpt/microgpt/blob/main/CHANGELOG.md'
        }
    }
}
