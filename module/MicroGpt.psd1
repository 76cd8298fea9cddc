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
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('GPT', 'Transformer', 'LanguageModel', 'MachineLearning', 'NeuralNetwork', 'Training', 'Tutorial', 'PSEdition_Core')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProjectUri   = 'https://github.com/microgpt/microgpt'
            ReleaseNotes = 'First release: word and character tokenizers, training with Adam, checkpoints and resume, sampling, JSON and safetensors model files.'
        }
    }
}
