<#
.SYNOPSIS
An unattended training run for a scheduler: no prompts, a log, checkpoints, an exit code.

.DESCRIPTION
Trains the tutorial's model in -WorkFolder (made if it does not exist). The first run starts training with a checkpoint every
-CheckpointInterval steps; a later run (after a reboot, a kill, or the next scheduled start)
resumes from the checkpoint and continues exactly where the last one stopped. Every step goes to
training.csv, one flushed line per row; the finished model goes to model.json. Nothing prompts;
any error stops the script with exit code 1, success exits with 0. Once the run has taken all
its steps, later starts only warn that there is nothing left to train and save model.json again;
to train further, start a new run in another -WorkFolder (or fine-tune model.json).

Schedule it on Windows (every night at 2:00):
  $action  = New-ScheduledTaskAction -Execute 'pwsh.exe' -Argument '-NoProfile -NonInteractive -File C:\microgpt\examples\unattended.ps1 -WorkFolder C:\microgpt\run'
  $trigger = New-ScheduledTaskTrigger -Daily -At 2am
  Register-ScheduledTask -TaskName 'MicroGpt training' -Action $action -Trigger $trigger

Schedule it on Linux with cron (crontab -e; every night at 2:00):
  0 2 * * * pwsh -NoProfile -NonInteractive -File /opt/microgpt/examples/unattended.ps1 -WorkFolder /var/lib/microgpt >> /var/log/microgpt.log 2>&1

.EXAMPLE
pwsh -NoProfile -NonInteractive -File ./examples/unattended.ps1 -WorkFolder ./run -Steps 20000
#>
param(
    [string] $WorkFolder = '.',
    [int] $Steps = 5000,
    [int] $CheckpointInterval = 500
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'   # nobody is watching
try {
    Import-Module (Join-Path $PSScriptRoot '../out/MicroGpt')
    New-Item -ItemType Directory -Path $WorkFolder -Force | Out-Null
    $checkpoint = Join-Path $WorkFolder 'checkpoint.json'
    $log = Join-Path $WorkFolder 'training.csv'

    if (Test-Path $checkpoint) {
        Invoke-Training -Resume $checkpoint -LogPath $log -CheckpointInterval $CheckpointInterval | Out-Null
    } else {
        Invoke-Training -Steps $Steps -CheckpointPath $checkpoint -CheckpointInterval $CheckpointInterval -LogPath $log | Out-Null
    }
    $model = Import-Model $checkpoint
    $model | Save-Model -Path (Join-Path $WorkFolder 'model.json')
    "$(Get-Date -Format s) trained to step $($model.Steps), last loss $($model.Loss)"
    exit 0
} catch {
    [Console]::Error.WriteLine("$(Get-Date -Format s) training failed: $($_.Exception.Message) ($($_.FullyQualifiedErrorId))")
    exit 1
}
