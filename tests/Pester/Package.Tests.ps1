#Requires -Version 7.4
# The module as a user gets it from a PowerShell repository: build.ps1 Package publishes it to a
# folder repository, and a user's pwsh installs it with Install-PSResource, imports it by name,
# reads its help, trains, and uninstalls it. Everything a user's pwsh does runs in a new pwsh whose
# home folder is a temporary one, so that this machine's own repositories and modules are untouched.

BeforeAll {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    & (Join-Path $root 'build.ps1') Package | Out-Null
    $moduleFolder = Join-Path $root 'out/package/MicroGpt'
    $manifestPath = Join-Path $moduleFolder 'MicroGpt.psd1'
    $manifest = Import-PowerShellDataFile -Path $manifestPath
    $version = $manifest.ModuleVersion
    $package = Join-Path $root "out/packages/MicroGpt.$version.nupkg"

    # Runs a script in a new pwsh with the given home folder, and returns what it writes as JSON.
    function Invoke-UserPwsh([string] $HomeFolder, [string] $Script) {
        $pwsh = [Environment]::ProcessPath
        $arguments = @('-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'; $Script | ConvertTo-Json -Depth 3 -Compress")
        if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $arguments = @(Join-Path $PSHOME 'pwsh.dll') + $arguments }
        $savedHome = $env:HOME
        try {
            $env:HOME = $HomeFolder
            $output = & $pwsh @arguments 2>&1
            if ($LASTEXITCODE -ne 0) { throw "pwsh failed ($LASTEXITCODE): $output" }
        } finally { $env:HOME = $savedHome }
        ($output | Select-Object -Last 1) | ConvertFrom-Json
    }
}

Describe 'build.ps1 Package' {
    It 'publishes MicroGpt.<version>.nupkg with the version of Directory.Build.props' {
        $props = [xml](Get-Content -Path (Join-Path $root 'Directory.Build.props') -Raw)
        $version | Should -Be ($props.Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1)
        $package | Should -Exist
    }

    It 'packs every file of the module folder, and the manifest lists exactly those' {
        $files = Get-ChildItem -Path $moduleFolder -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($moduleFolder, $_.FullName).Replace('\', '/') }
        $files | Sort-Object | Should -Be ($manifest.FileList | Sort-Object)
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package)
        try { $packed = $zip.Entries.FullName } finally { $zip.Dispose() }
        foreach ($file in $files) { $packed | Should -Contain $file }
    }

    It 'has a complete manifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
        foreach ($key in 'Description', 'Author', 'CompanyName', 'Copyright', 'CompatiblePSEditions', 'PowerShellVersion') {
            $manifest[$key] | Should -Not -BeNullOrEmpty -Because "$key is part of a complete manifest"
        }
        foreach ($key in 'LicenseUri', 'ProjectUri', 'Tags', 'ReleaseNotes') {
            $manifest.PrivateData.PSData[$key] | Should -Not -BeNullOrEmpty -Because "$key is part of a complete manifest"
        }
        $manifest.PrivateData.PSData.LicenseUri | Should -BeLike '*/LICENSE'
        $manifest.PrivateData.PSData.ReleaseNotes | Should -BeLike '*CHANGELOG.md*'
        Join-Path $moduleFolder 'LICENSE' | Should -Exist
    }

    It 'names, in CHANGELOG.md, this version as the latest' {
        $changelog = Get-Content -Path (Join-Path $root 'CHANGELOG.md')
        $latest = $changelog | Where-Object { $_ -match '^## \[(\d[^\]]*)\]' } | Select-Object -First 1
        $latest | Should -Match "^## \[$([regex]::Escape($version))\] - \d{4}-\d{2}-\d{2}$"
    }
}

Describe 'A user installing the package' {
    BeforeAll {
        $userHome = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "microgpt-user-$([guid]::NewGuid().ToString('N'))")
        $repository = Join-Path $root 'out/packages'
        $installed = Invoke-UserPwsh $userHome.FullName @"
Register-PSResourceRepository -Name Local -Uri '$repository' -Trusted
Install-PSResource MicroGpt -Repository Local -Scope CurrentUser -PassThru | Select-Object Name, @{ n = 'Version'; e = { `$_.Version.ToString() } }, InstalledLocation
"@
        $modules = Join-Path $userHome.FullName '.local/share/powershell/Modules'
        # A fresh pwsh that can find MicroGpt only where Install-PSResource put it.
        $used = Invoke-UserPwsh $userHome.FullName @"
`$env:PSModulePath = '$modules' + [IO.Path]::PathSeparator + (Join-Path `$PSHOME 'Modules')
Import-Module MicroGpt
[pscustomobject]@{
    ModuleBase = (Get-Module MicroGpt).ModuleBase
    Version    = (Get-Module MicroGpt).Version.ToString()
    Examples   = @((Get-Help Invoke-Training -Examples).Examples.Example).Count
    Steps      = @(Invoke-Training -Steps 50).Count
    LastLoss   = (Invoke-Training -Steps 50 | Select-Object -Last 1).Loss
}
"@
        $uninstalled = Invoke-UserPwsh $userHome.FullName @"
Uninstall-PSResource MicroGpt -Scope CurrentUser
[pscustomobject]@{ Left = @(Get-ChildItem -Path '$modules' -Force -ErrorAction SilentlyContinue).Name }
"@
    }

    AfterAll { Remove-Item -Path $userHome -Recurse -Force -ErrorAction SilentlyContinue }

    It 'installs it with Install-PSResource from a folder repository' {
        $installed.Name | Should -Be 'MicroGpt'
        $installed.Version | Should -Be $version
        $installed.InstalledLocation | Should -Be $modules
    }

    It 'imports it by name from the installed folder' {
        $used.ModuleBase | Should -Be (Join-Path $modules "MicroGpt/$version")
        $used.Version | Should -Be $version
    }

    It 'shows the help examples' {
        $used.Examples | Should -BeGreaterOrEqual 3
    }

    It 'trains on the default corpus' {
        $used.Steps | Should -Be 50
        $used.LastLoss | Should -BeLessThan 6.5
    }

    It 'uninstalls it, leaving nothing behind' {
        $uninstalled.Left | Should -BeNullOrEmpty
    }
}
