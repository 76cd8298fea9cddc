#Requires -Version 7.4
# Ctrl+C in an interactive pwsh, as a person meets it. This pwsh's own pwsh.dll runs, started as
# `dotnet pwsh.dll` (so the process the test watches, and ends if it hangs, is the one that runs
# the command), in a pane of a tmux server that belongs to the test alone. A command writes rows or
# shows a progress bar; the test sends C-c at a random moment, then reads the pane: the prompt must
# be back within 2 s, typing must be echoed and run, nothing half-done may be written, and a
# training's checkpoint must hold the step its log ends at, the log whole.
# Tries per command: $env:MICROGPT_CTRLC_TRIES, or 5 for Invoke-Training and 3 for the others.
#
# Why a session can hang: to draw a progress bar (and to redraw it around every line written under
# it) the console host asks the terminal where the cursor is and waits for the answer. A Ctrl+C
# typed after the terminal answered, but before pwsh read the answer, makes the terminal driver
# discard pending input, answer included, and the host then waits forever (PowerShell issue 12814).
# Before the change these tests came with, 11 of 20 Ctrl+C's on Invoke-Training hung. The last
# tests make that race certain, on Linux, instead of waiting for it to happen.

BeforeDiscovery {
    # CI and the developers' machines have tmux; elsewhere these tests are skipped, not failed.
    $noTmux = -not (Get-Command tmux -CommandType Application -ErrorAction SilentlyContinue) -and -not $env:CI
}

BeforeAll {
    $module = (Resolve-Path (Join-Path $PSScriptRoot '../../out/MicroGpt/MicroGpt.psd1')).Path
    $triesGiven = if ($env:MICROGPT_CTRLC_TRIES) { [int]$env:MICROGPT_CTRLC_TRIES }
    $prompt = 'ctrlc>'
    $backWithin = 2.0  # seconds from Ctrl+C to the prompt
    $startWithin = 90  # seconds for pwsh to start and the command to get going, on a busy machine
    $logHeader = '"Step","Steps","Loss","LearningRate","GradNorm","Tokens","TokensPerSecond","ElapsedSeconds","ValidationLoss"'

    # Something for Measure-Model to measure for many seconds: 300,000 sentences, embedding 128.
    $largeCorpus = Join-Path $TestDrive 'large.txt'
    Set-Content -LiteralPath $largeCorpus -Value ((Get-Content -LiteralPath (Join-Path (Split-Path $module) 'data/sentences.txt')) * 10)
    $measureLarge = "Measure-Model -Model (New-Model -EmbeddingSize 128) -Path '$largeCorpus'"
    $measuring = 'Sentence [\d,]+ of 300,000'
    # Rows that a later command prints, under Invoke-Training's bar (the host redraws it around each).
    $selectRows = 'Invoke-Training -Steps 2000000 | Select-Object Step, Loss'
    $selectedRow = '^\s*\d+\s+\d+\.\d+\s*$'

    # tmux, on the session's own server: the session first, then tmux's arguments (no declared
    # parameters, so that tmux's -s or -t never binds to one of them).
    function Invoke-Tmux {
        $session, $arguments = $args
        & tmux -L $session.Socket @arguments
    }

    function Get-Pane($Session) {
        Invoke-Tmux $Session capture-pane -p -t main
    }

    function Get-LastLine($Session) {
        (Get-Pane $Session | Where-Object { $_.Trim() } | Select-Object -Last 1)?.TrimEnd()
    }

    # Seconds until $Until holds for the pane's lines, or $null when $Seconds pass first.
    function Wait-Pane($Session, [scriptblock] $Until, [double] $Seconds) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        do {
            if (& $Until (Get-Pane $Session)) { return $clock.Elapsed.TotalSeconds }
            Start-Sleep -Milliseconds 20
        } while ($clock.Elapsed.TotalSeconds -lt $Seconds)
    }

    function Send-Line($Session, [string] $Text) {
        Invoke-Tmux $Session send-keys -t main -l $Text
        Invoke-Tmux $Session send-keys -t main Enter
    }

    # A fresh pwsh in a fresh folder, at its prompt, running $Command until a line of the pane
    # matches $Running. -UnderShell keeps sh as pwsh's parent, so that tmux, which continues the
    # processes it starts when they stop, does not see it stopped.
    function Start-Session([string] $Command, [string] $Running, [switch] $UnderShell) {
        $folder = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "microgpt-ctrlc-$([guid]::NewGuid().ToString('N'))")).FullName
        $session = [pscustomobject]@{ Socket = "microgpt-ctrlc-$PID-$([guid]::NewGuid().ToString('N'))"; Folder = $folder; PwshId = 0 }
        $setup = "function global:prompt { '$prompt ' }; Set-PSReadLineOption -PredictionSource None -HistorySaveStyle SaveNothing"
        $pwsh = "'$([Environment]::ProcessPath)' '$(Join-Path $PSHOME 'pwsh.dll')' -NoProfile -NoLogo -NoExit -Command `"$setup`""
        Invoke-Tmux $session new-session -d -s main -x 200 -y 50 -c $folder ($UnderShell ? "$pwsh; exit" : "exec $pwsh")
        $session.PwshId = $paneId = [int](Invoke-Tmux $session display-message -p -t main '#{pane_pid}')
        try {
            if ($null -eq (Wait-Pane $session { (Get-LastLine $session) -eq $prompt } $startWithin)) {
                throw "pwsh did not start: $((Get-Pane $session) -join "`n")"
            }
            if ($UnderShell) { $session.PwshId = (Get-Process | Where-Object { $_.Parent.Id -eq $paneId }).Id }
            Send-Line $session "Import-Module '$module'; $Command"
            if ($null -eq (Wait-Pane $session { param($lines) $lines -match $Running } $startWithin)) {
                throw "The command never got going: $((Get-Pane $session) -join "`n")"
            }
            $session
        }
        catch {
            Stop-Session $session
            throw
        }
    }

    # After a Ctrl+C: how soon the prompt came back, whether typing is echoed and runs, and the screen.
    # The prompt is back when the last line is the prompt, alone or followed by what is left of a
    # cursor-position answer (ESC [ row ; column R) that the Ctrl+C tore: the characters after the
    # part the host had read arrive as typed keys (once in a CI run: "ctrlc> ;"). Those are cleared
    # with Ctrl+U, as a person would, and counted in the try's Leftover.
    function Measure-Return($Session) {
        $torn = "^$([regex]::Escape($prompt))\s*([\d;R\[]*)$"
        $back = Wait-Pane $Session { (Get-LastLine $Session) -match $torn } 10
        $screen = Get-Pane $Session
        $echoed = $ran = $false; $typed = $null; $leftover = ''
        if ($null -ne $back -and ($leftover = ((Get-LastLine $Session) -replace $torn, '$1'))) {
            Invoke-Tmux $Session send-keys -t main C-u
            $null = Wait-Pane $Session { (Get-LastLine $Session) -eq $prompt } $backWithin
        }
        if ($null -ne $back) {
            # The line starts with a space, which a stray ESC may take: a Ctrl+C that lands in the
            # middle of the terminal's answer leaves the part pwsh had read, an ESC, in its input
            # once the answer is asked for again, and ESC and the next key make one Alt+key.
            Invoke-Tmux $Session send-keys -t main -l " 'typed' + '-ok'"
            $echoed = $null -ne (Wait-Pane $Session { (Get-LastLine $Session) -match "^$prompt\s+'typed' \+ '-ok'$" } $backWithin)
            Invoke-Tmux $Session send-keys -t main Enter
            $ran = $null -ne (Wait-Pane $Session { param($lines) ($lines -ceq 'typed-ok') -and (Get-LastLine $Session) -eq $prompt } $backWithin)
            $typed = Get-Pane $Session
        }
        [pscustomobject]@{ Back = $back; Leftover = $leftover; Echoed = $echoed; Ran = $ran; Screen = $screen; Typed = $typed }
    }

    function Stop-Session($Session) {
        Send-Line $Session 'exit'
        $pwsh = Get-Process -Id $Session.PwshId -ErrorAction Ignore
        if ($pwsh -and -not $pwsh.WaitForExit(5000)) { $pwsh.Kill() } # a hung pwsh: ended, as a person would have to
        Invoke-Tmux $Session kill-server 2>$null
        Remove-Item -LiteralPath $Session.Folder -Recurse -Force -ErrorAction Ignore
    }

    # One try: $Command runs; a random moment after it got going, Ctrl+C; what came back, and
    # what $Inspect finds in the folder.
    function Invoke-CtrlCTry([string] $Command, [string] $Running, [scriptblock] $Inspect) {
        $session = Start-Session $Command $Running
        try {
            Start-Sleep -Milliseconds (Get-Random -Maximum 1000)
            Invoke-Tmux $session send-keys -t main C-c
            $result = Measure-Return $session
            if ($Inspect) { & $Inspect $result $session.Folder }
            $result
        }
        finally { Stop-Session $session }
    }

    # Every try: the prompt back within 2 s, typing echoed and run.
    function Assert-EveryTryCameBack([object[]] $Results, [string] $Name) {
        $times = $Results | ForEach-Object { if ($null -eq $_.Back) { 'hung' } else { '{0:F2} s' -f $_.Back } }
        $count = @($Results | Where-Object { $null -ne $_.Back -and $_.Back -le $backWithin }).Count
        $torn = @($Results | Where-Object Leftover).Count
        Write-Host "Ctrl+C on ${Name}: $count of $($Results.Count) back within $backWithin s ($($times -join ', '))$(if ($torn) { "; $torn with a torn cursor answer's characters at the prompt" })."
        foreach ($result in $Results) {
            $result.Back | Should -Not -BeNullOrEmpty -Because "the prompt must come back; the pane was:`n$($result.Screen -join "`n")"
            $result.Back | Should -BeLessOrEqual $backWithin
            $result.Echoed | Should -BeTrue -Because "what is typed at the prompt must be echoed; the pane was:`n$($result.Typed -join "`n")"
            $result.Ran | Should -BeTrue -Because "what is typed at the prompt must run; the pane was:`n$($result.Typed -join "`n")"
        }
    }
}

Describe 'Ctrl+C in an interactive pwsh' -Tag 'Interactive' -Skip:$noTmux {
    It 'brings the prompt back from Invoke-Training, keeping a checkpoint and a whole log at the step it stopped at' {
        $results = foreach ($i in 1..($triesGiven ?? 5)) {
            Invoke-CtrlCTry 'Invoke-Training -Steps 200000 -CheckpointPath ck.json -LogPath log.csv' -Running '^\s*\d+ / 200000 ' -Inspect {
                param($result, $folder)
                $lines = @(Get-Content -LiteralPath (Join-Path $folder 'log.csv'))
                $rows = $lines | Select-Object -Skip 1
                $result | Add-Member -NotePropertyMembers @{
                    LogHeader = $lines[0]
                    LogSteps = [long[]]@($rows | ForEach-Object { $_.Split(',')[0].Trim('"') })
                    LogRowsWhole = @($rows | Where-Object { $_ -notmatch '^"\d+","200000"(,"[^"]*"){7}$' }).Count -eq 0
                    CheckpointStep = (Get-Content -LiteralPath (Join-Path $folder 'ck.json') -Raw | ConvertFrom-Json).training.steps
                    Files = (Get-ChildItem -LiteralPath $folder -Force).Name | Sort-Object
                }
            }
        }
        Assert-EveryTryCameBack $results 'Invoke-Training'
        foreach ($result in $results) {
            $result.LogHeader | Should -Be $logHeader
            $result.LogRowsWhole | Should -BeTrue -Because 'every line of the log is whole'
            $result.LogSteps.Count | Should -BeGreaterThan 0
            $result.LogSteps | Should -Be (1..$result.LogSteps.Count) -Because 'the log has every step, once'
            $result.CheckpointStep | Should -Be $result.LogSteps[-1] -Because 'the checkpoint holds the step the log ends at'
            $result.Files | Should -Be 'ck.json', 'log.csv' -Because 'no temporary file is left behind'
        }
    }

    It 'brings the prompt back from Invoke-Training | Select-Object, its rows printing under its bar' {
        $results = foreach ($i in 1..($triesGiven ?? 3)) { Invoke-CtrlCTry $selectRows -Running $selectedRow }
        Assert-EveryTryCameBack $results 'Invoke-Training | Select-Object'
    }

    It 'brings the prompt back from Invoke-Generation writing samples' {
        $results = foreach ($i in 1..($triesGiven ?? 3)) {
            Invoke-CtrlCTry 'Invoke-Generation -Count 1000000' -Running '\s\d+\s+-\d+\.\d+ (True|False)$'
        }
        Assert-EveryTryCameBack $results 'Invoke-Generation'
    }

    It 'brings the prompt back from Measure-Model measuring a large corpus, writing no measurement' {
        $results = foreach ($i in 1..($triesGiven ?? 3)) {
            Invoke-CtrlCTry $measureLarge -Running $measuring
        }
        Assert-EveryTryCameBack $results 'Measure-Model'
        foreach ($result in $results) {
            $result.Screen -match 'Perplexity' | Should -BeNullOrEmpty -Because 'a stopped measurement writes nothing'
        }
    }
}

Describe 'Ctrl+C that lands while the host waits for the terminal' -Tag 'Interactive' -Skip:($noTmux -or -not $IsLinux) {
    BeforeAll {
        # Linux's values: the terminal driver's calls, and the signals a terminal sends.
        Add-Type -Namespace MicroGptTests -Name Terminal -MemberDefinition @'
            [DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags);
            [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
            [DllImport("libc", SetLastError = true)] public static extern int tcflush(int fd, int queue);
            [DllImport("libc", SetLastError = true)] public static extern int ioctl(int fd, ulong request, out int value);
            [DllImport("libc", SetLastError = true)] public static extern int kill(int pid, int signal);
            public const int ReadWriteNoControllingTerminal = 2 | 0x100; // O_RDWR | O_NOCTTY
            public const int InputQueue = 0;                              // TCIFLUSH
            public const ulong PendingInput = 0x541B;                     // FIONREAD
            public const int Interrupt = 2, Continue = 18, Stop = 19;     // SIGINT, SIGCONT, SIGSTOP
'@
        $shortestAnswer = 6 # bytes of a cursor position report: ESC [ row ; column R

        function Send-Signal([int] $ProcessId, [int] $Signal) {
            if ([MicroGptTests.Terminal]::kill($ProcessId, $Signal) -ne 0) { throw "kill($ProcessId, $Signal) failed" }
        }

        # Until pwsh's pipeline thread waits in a read from the terminal: with tmux held, the
        # answer to a cursor question it asked. The thread's system call, and where it sleeps.
        function Wait-AskingTerminal([int] $ProcessId) {
            $read = @{ X64 = '0'; Arm64 = '63' }[[Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString()]
            $pipeline = Get-ChildItem "/proc/$ProcessId/task" | Where-Object { (Get-Content -LiteralPath "$($_.FullName)/comm") -like 'Pipeline*' }
            $clock = [Diagnostics.Stopwatch]::StartNew()
            do {
                $call = (Get-Content -LiteralPath "$($pipeline.FullName)/syscall" -Raw).Split(' ')[0]
                $sleep = Get-Content -LiteralPath "$($pipeline.FullName)/wchan" -Raw
                if ($call -eq $read -and $sleep -eq 'wait_woken') { return }
                Start-Sleep -Milliseconds 5
            } while ($clock.Elapsed.TotalSeconds -lt 5)
            throw "pwsh's pipeline thread never waited for the terminal (last: system call $call in $sleep)"
        }

        # A stop signal reaches the threads of a process one by one: wait until none runs.
        function Wait-Stopped([int] $ProcessId) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            do {
                $states = Get-ChildItem "/proc/$ProcessId/task" | ForEach-Object {
                    $stat = Get-Content -LiteralPath "$($_.FullName)/stat" -Raw
                    $stat[$stat.LastIndexOf(')') + 2]
                }
                if (@($states | Where-Object { $_ -ne 'T' }).Count -eq 0) { return }
                Start-Sleep -Milliseconds 10
            } while ($clock.Elapsed.TotalSeconds -lt 5)
            throw "pwsh ($ProcessId) did not stop"
        }

        # Bytes waiting in the input queue of the terminal $Tty; -Drop then discards them, as the
        # terminal driver does on a Ctrl+C.
        function Read-PendingInput([string] $Tty, [switch] $Drop) {
            $fd = [MicroGptTests.Terminal]::open($Tty, [MicroGptTests.Terminal]::ReadWriteNoControllingTerminal)
            if ($fd -lt 0) { throw "Cannot open $Tty" }
            try {
                $pending = 0
                $null = [MicroGptTests.Terminal]::ioctl($fd, [MicroGptTests.Terminal]::PendingInput, [ref]$pending)
                if ($Drop) { $null = [MicroGptTests.Terminal]::tcflush($fd, [MicroGptTests.Terminal]::InputQueue) }
                $pending
            }
            finally { $null = [MicroGptTests.Terminal]::close($fd) }
        }

        # What a Ctrl+C typed at the worst moment does, made certain: tmux is held while pwsh asks
        # where the cursor is, pwsh is held while tmux answers, the whole answer is dropped from
        # pwsh's input as the terminal driver drops it on a Ctrl+C, and pwsh gets its SIGINT.
        function Invoke-LostAnswerTry([string] $Command, [string] $Running) {
            $session = Start-Session $Command $Running -UnderShell
            $tmux = [int](Invoke-Tmux $session display-message -p '#{pid}')
            $tty = Invoke-Tmux $session display-message -p -t main '#{pane_tty}'
            try {
                Send-Signal $tmux ([MicroGptTests.Terminal]::Stop)
                Wait-AskingTerminal $session.PwshId
                Send-Signal $session.PwshId ([MicroGptTests.Terminal]::Stop)
                Wait-Stopped $session.PwshId
                Send-Signal $tmux ([MicroGptTests.Terminal]::Continue)
                Start-Sleep -Milliseconds 500 # tmux answers
                $pending = Read-PendingInput $tty -Drop
                Send-Signal $session.PwshId ([MicroGptTests.Terminal]::Interrupt)
                Send-Signal $session.PwshId ([MicroGptTests.Terminal]::Continue)
                $result = Measure-Return $session
                $result | Add-Member -NotePropertyName DroppedAnswerBytes -NotePropertyValue $pending -PassThru
            }
            finally {
                $null = [MicroGptTests.Terminal]::kill($tmux, [MicroGptTests.Terminal]::Continue) # held or not, both go on to end
                $null = [MicroGptTests.Terminal]::kill($session.PwshId, [MicroGptTests.Terminal]::Continue)
                Stop-Session $session
            }
        }

        function Assert-LostAnswerCameBack([string] $Command, [string] $Running, [string] $Name) {
            $result = Invoke-LostAnswerTry $Command $Running
            $result.DroppedAnswerBytes | Should -BeGreaterOrEqual $shortestAnswer -Because 'the terminal had answered, and its whole answer was dropped'
            Assert-EveryTryCameBack $result "$Name, its answer lost"
        }
    }

    It 'brings the prompt back from Invoke-Training | Export-Csv with its progress bar up' {
        Assert-LostAnswerCameBack 'Invoke-Training -Steps 2000000 | Export-Csv out.csv' 'Step [\d,]+ of 2,000,000' 'Invoke-Training | Export-Csv'
    }

    It 'brings the prompt back from Measure-Model with its progress bar up' {
        Assert-LostAnswerCameBack $measureLarge $measuring 'Measure-Model'
    }

    It 'brings the prompt back from Invoke-Training | Select-Object, its rows printing under its bar' {
        Assert-LostAnswerCameBack $selectRows $selectedRow 'Invoke-Training | Select-Object'
    }
}
