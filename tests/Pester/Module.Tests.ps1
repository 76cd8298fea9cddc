#Requires -Version 7.4
# The module as a user installs it: the manifest, what it exports, its format views, its help.
# Run after `dotnet build`, which assembles out/MicroGpt.

BeforeDiscovery {
    $manifestPath = Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1'
    $cmdletCases = (Import-PowerShellDataFile -Path $manifestPath).CmdletsToExport | ForEach-Object { @{ CmdletName = $_ } }
    $testFileCases = Get-ChildItem -Path $PSScriptRoot -Filter '*.Tests.ps1' | ForEach-Object { @{ File = $_.Name; Path = $_.FullName } }
    # The output types of DESIGN.md and the issue, each with a default table view.
    $viewCases = 'Model', 'Tokenizer', 'TrainingStep', 'Sample', 'TokenizedText', 'Measurement' | ForEach-Object { @{ TypeName = "MicroGpt.$_" } }
}

BeforeAll {
    $moduleFolder = Join-Path $PSScriptRoot '../../out/MicroGpt'
    $manifestPath = Join-Path $moduleFolder 'MicroGpt.psd1'
    $module = Import-Module $manifestPath -Force -PassThru
    $manifest = Import-PowerShellDataFile -Path $manifestPath
}

Describe 'The module manifest' {
    It 'passes Test-ModuleManifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
        (Test-ModuleManifest -Path $manifestPath).Name | Should -Be 'MicroGpt'
    }

    It 'requires PowerShell 7.4 on Core' {
        $info = Test-ModuleManifest -Path $manifestPath
        $info.PowerShellVersion | Should -Be ([version]'7.4')
        $info.CompatiblePSEditions | Should -Be 'Core'
    }

    It 'carries the version from Directory.Build.props' {
        $props = [xml](Get-Content -Path (Join-Path $PSScriptRoot '../../Directory.Build.props') -Raw)
        $version = $props.Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
        (Test-ModuleManifest -Path $manifestPath).Version | Should -Be ([version]$version)
    }

    It 'has a GUID, an author, a description, tags and project data' {
        $manifest.GUID | Should -Not -BeNullOrEmpty
        $manifest.Author | Should -Not -BeNullOrEmpty
        $manifest.Description | Should -Not -BeNullOrEmpty
        $manifest.PrivateData.PSData.Tags | Should -Not -BeNullOrEmpty
        $manifest.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
        $manifest.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
    }

    It 'lists its cmdlets explicitly and exports no functions, aliases or variables' {
        $manifest.CmdletsToExport | Should -Not -BeNullOrEmpty
        $manifest.CmdletsToExport | Where-Object { $_ -match '[*?]' } | Should -BeNullOrEmpty
        $manifest.FunctionsToExport | Should -BeNullOrEmpty
        $manifest.AliasesToExport | Should -BeNullOrEmpty
        $module.ExportedFunctions.Keys | Should -BeNullOrEmpty
        $module.ExportedAliases.Keys | Should -BeNullOrEmpty
    }

    It 'lists the cmdlets of DESIGN.md' {
        foreach ($name in 'New-Tokenizer', 'Get-Tokens', 'New-Model', 'Invoke-Training', 'Save-Model', 'Import-Model', 'Invoke-Generation', 'Measure-Model') {
            $manifest.CmdletsToExport | Should -Contain $name
        }
    }

    It 'processes its format file' {
        $manifest.FormatsToProcess | Should -Not -BeNullOrEmpty
        foreach ($file in $manifest.FormatsToProcess) {
            Join-Path $moduleFolder $file | Should -Exist
        }
    }
}

Describe 'The imported module' {
    It 'exports exactly the cmdlets its manifest lists' {
        $exported = Get-Command -Module MicroGpt | ForEach-Object Name
        $exported | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
        $module.ExportedCmdlets.Keys | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'exports cmdlets only' {
        Get-Command -Module MicroGpt | Where-Object CommandType -NE 'Cmdlet' | Should -BeNullOrEmpty
    }

    It 'has a default table view for <TypeName>' -TestCases $viewCases {
        $format = Get-FormatData -TypeName $TypeName
        $format | Should -Not -BeNullOrEmpty
        $format.FormatViewDefinition.Control | Should -BeOfType ([System.Management.Automation.TableControl])
    }
}

Describe '<CmdletName>' -ForEach $cmdletCases {
    BeforeAll {
        $command = Get-Command -Name $CmdletName -Module MicroGpt
        $help = Get-Help -Name $CmdletName -Full
        $commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    }

    It 'declares its output type' {
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'has help with a synopsis' {
        # Without a help file, Get-Help makes up a synopsis from the syntax, which starts with the name.
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$CmdletName*"
    }

    It 'has help with a description' {
        ($help.Description | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty
    }

    It 'has help for every parameter' {
        $documented = @($help.Parameters.Parameter)
        foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $commonParameters }) {
            $entry = $documented | Where-Object Name -EQ $parameter
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter needs a help entry"
            ($entry.Description | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty -Because "-$parameter needs a description"
        }
    }

    It 'has help with at least two examples, each with code' {
        $examples = @($help.Examples.Example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.Code | Should -Not -BeNullOrEmpty
        }
    }

    It 'shows its examples with Get-Help -Examples' {
        $examples = @((Get-Help -Name $CmdletName -Examples).Examples.Example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        ($examples.Code -join "`n") | Should -BeLike "*$CmdletName*"
    }
}

Describe 'about_MicroGpt' {
    It 'ships as an en-US help topic' {
        Join-Path $moduleFolder 'en-US/about_MicroGpt.help.txt' | Should -Exist
    }

    It 'is found by Get-Help' {
        Get-Help -Name about_MicroGpt | Out-String | Should -BeLike '*about_MicroGpt*'
    }
}

Describe 'The Pester file <File>' -ForEach $testFileCases {
    It 'parses without errors' {
        $errors = $null
        $null = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$null, [ref]$errors)
        $errors | Should -BeNullOrEmpty
    }
}

Describe 'The warm-up at import' {
    BeforeAll {
        # A fresh pwsh (this one's pwsh.dll under dotnet, or this pwsh) that imports the module with
        # MICROGPT_NO_WARMUP set or cleared, runs $Script, and is killed if it takes over 3 minutes.
        function Invoke-FreshSession([string] $Script, [switch] $NoWarmup) {
            $pwsh = [Environment]::ProcessPath
            $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
            if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
            foreach ($argument in '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$manifestPath'; $Script") { $start.ArgumentList.Add($argument) }
            $start.RedirectStandardOutput = $start.RedirectStandardError = $true
            if ($NoWarmup) { $start.Environment['MICROGPT_NO_WARMUP'] = '1' } else { $null = $start.Environment.Remove('MICROGPT_NO_WARMUP') }
            $process = [System.Diagnostics.Process]::Start($start)
            $errors = $process.StandardError.ReadToEndAsync()
            $output = $process.StandardOutput.ReadToEndAsync()
            if (-not $process.WaitForExit([TimeSpan]::FromMinutes(3))) {
                $process.Kill($true)
                throw "pwsh did not finish within 3 minutes: $Script"
            }
            $process.WaitForExit()
            if ($process.ExitCode -ne 0) { throw "pwsh failed ($($process.ExitCode)): $($errors.Result)" }
            @($output.Result -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
        }
        $losses = 'Invoke-Training -Steps 40 -LogInterval 1 -ThreadCount 1 | ForEach-Object { $_.Loss.ToString(''R'') }'
    }

    It 'runs the engine once in the background and finishes without error' {
        Invoke-FreshSession '$warmingUp = [MicroGpt.Commands.ModuleInitializer]::WarmingUp; $warmingUp.Wait([TimeSpan]::FromMinutes(2)); $warmingUp.Status' |
            Should -Be 'True', 'RanToCompletion'
    }

    It 'runs once a process: a second import, with -Force, starts none' {
        Invoke-FreshSession "`$first = [MicroGpt.Commands.ModuleInitializer]::WarmingUp; Import-Module '$manifestPath' -Force; [object]::ReferenceEquals(`$first, [MicroGpt.Commands.ModuleInitializer]::WarmingUp)" |
            Should -Be 'True'
    }

    It 'is skipped when MICROGPT_NO_WARMUP is 1' {
        Invoke-FreshSession '$null -eq [MicroGpt.Commands.ModuleInitializer]::WarmingUp' -NoWarmup | Should -Be 'True'
    }

    It 'changes no result: a session trains to the same losses, bit for bit, with and without it' {
        $with = Invoke-FreshSession $losses # right after the import, while the warm-up runs beside it
        $without = Invoke-FreshSession $losses -NoWarmup
        $with.Count | Should -Be 40
        $with | Should -Be $without
        # and after it has finished
        Invoke-FreshSession "[MicroGpt.Commands.ModuleInitializer]::WarmingUp.Wait(); $losses" | Should -Be $with
    }
}
