using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace MicroGpt;

/// <summary>
/// A few threads that run the jobs of one phase together with the calling thread:
/// <see cref="For"/> hands out the indexes 0..count-1 through one shared counter, so any thread
/// may run any job; or, given owners, each thread first runs the jobs it owns (thread 0 is the
/// caller), so that a job that writes the same memory every step runs on the same core every step
/// (moving cache lines between cores costs more than the arithmetic on them), and then helps with
/// any job still unclaimed, so that a thread whose core the host or another process has taken for
/// a while does not hold up the phase. Callers make each job write only its own outputs, so no
/// result depends on which thread ran what. Parallel.For would do the same, but it allocates and
/// wakes pool threads on every call, which costs more than a small model's whole phase.
/// A phase may take fewer threads than the pool has (a trainer's steps may use fewer than its
/// validation): the others sit it out. Idle workers spin for a short while
/// (<see cref="Tunables.WorkerSpinTicks"/>), because the next phase usually follows within
/// microseconds, and then sleep until the next phase. Each trainer owns its pool (there is no
/// static state); the threads reference only <see cref="Crew"/>, never the pool, so an abandoned
/// pool is finalized and its threads end.
/// </summary>
sealed class WorkerPool : IDisposable
{
    readonly Crew crew;

    /// <summary>Starts <paramref name="workers"/> threads to help the calling thread.</summary>
    public WorkerPool(int workers)
    {
        Threads = workers + 1;
        crew = new Crew();
        for (int i = 1; i <= workers; i++)
        {
            int id = i;
            new Thread(() => crew.Work(id)) { IsBackground = true, Name = "MicroGpt worker" }.Start();
        }
    }

    ~WorkerPool() => crew.Stop();

    public void Dispose()
    {
        crew.Stop();
        GC.SuppressFinalize(this);
    }

    /// <summary>The threads a phase may use: the workers and the caller.</summary>
    public int Threads { get; }

    /// <summary>
    /// Runs body(0) .. body(count - 1), on this thread and the workers; returns when all have run.
    /// <paramref name="owners"/>[i], when given, is the thread that should run job i (0: the caller).
    /// <paramref name="threads"/>, when given, is how many threads take part, the caller included:
    /// workers 1 .. threads - 1.
    /// </summary>
    public void For(int count, Action<int> body, int[]? owners = null, int threads = 0) =>
        crew.Run(count, body, owners, threads > 0 ? threads : Threads);

    /// <summary>What the threads share.</summary>
    sealed class Crew
    {
        const int Closed = 1 << 30;  // set in members once the caller has run out of jobs

        readonly object gate = new();
        int phase;       // incremented, under the gate, to start a phase
        int sleepers;    // workers waiting on the gate
        bool stopping;
        Action<int>? body;
        int[]? owners;
        int[] claimed = [];  // per job, 1 once a thread has taken it (when jobs have owners)
        int count, next;
        int participants; // threads that take part in the phase, the caller included
        int members;     // workers inside the current phase, plus Closed
        ExceptionDispatchInfo? failure;

        public void Run(int jobs, Action<int> work, int[]? owners, int threads)
        {
            body = work;
            count = jobs;
            next = 0;
            participants = threads;
            this.owners = owners;
            if (owners is not null)
            {
                if (claimed.Length < jobs) claimed = new int[jobs]; // grows once, to the largest phase
                Array.Clear(claimed, 0, jobs);
            }
            failure = null;
            Volatile.Write(ref members, 0); // open: everything a joining worker reads is set
            lock (gate)
            {
                phase++;
                if (sleepers > 0) Monitor.PulseAll(gate);
            }
            RunJobs(work, 0);
            // Close the phase, so that a worker waking late does not join it, and wait for those
            // that did; only then may the next phase reset the counters they use.
            Interlocked.Or(ref members, Closed);
            var spinner = new SpinWait();
            while (Volatile.Read(ref members) != Closed) spinner.SpinOnce(sleep1Threshold: -1);
            body = null; // an idle crew keeps nothing of its owner alive
            failure?.Throw();
        }

        public void Stop()
        {
            lock (gate)
            {
                stopping = true;
                Monitor.PulseAll(gate);
            }
        }

        public void Work(int id)
        {
            int seen = 0;
            bool spin = true; // false after sitting out a phase: the next one is not likely to be ours soon
            while (true)
            {
                long until = Stopwatch.GetTimestamp() + (spin ? Tunables.WorkerSpinTicks : 0);
                int current;
                while ((current = Volatile.Read(ref phase)) == seen && !Volatile.Read(ref stopping) && Stopwatch.GetTimestamp() < until)
                    Thread.SpinWait(1);
                if (current == seen || Volatile.Read(ref stopping))
                    lock (gate) // nothing within the spin: sleep until the next phase (the gate is only for sleepers)
                    {
                        sleepers++;
                        while (phase == seen && !stopping) Monitor.Wait(gate);
                        sleepers--;
                        if (stopping) return;
                        current = phase;
                    }
                seen = current;
                if (TryJoin())
                {
                    // Joined, the phase cannot end, so its fields are this phase's until we leave.
                    spin = id < participants;
                    if (spin) RunJobs(body!, id);
                    Interlocked.Decrement(ref members);
                }
            }
        }

        bool TryJoin()
        {
            int m = Volatile.Read(ref members);
            while ((m & Closed) == 0)
            {
                int before = Interlocked.CompareExchange(ref members, m + 1, m);
                if (before == m) return true;
                m = before;
            }
            return false;
        }

        void RunJobs(Action<int> work, int id)
        {
            if (owners is { } owned)
            {
                for (int i = 0; i < count; i++)          // this thread's own jobs first,
                    if (owned[i] == id) TryRun(work, i);
                for (int i = 0; i < count; i++)          // then whatever is left
                    TryRun(work, i);
                return;
            }
            int next;
            while ((next = Interlocked.Increment(ref this.next) - 1) < count) Run(work, next);
        }

        void TryRun(Action<int> work, int i)
        {
            if (Volatile.Read(ref claimed[i]) == 0 && Interlocked.Exchange(ref claimed[i], 1) == 0) Run(work, i);
        }

        void Run(Action<int> work, int i)
        {
            try { work(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
        }
    }
}
