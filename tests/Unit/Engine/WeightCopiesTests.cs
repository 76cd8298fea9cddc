namespace MicroGpt.Tests.Engine;

public class WeightCopiesTests
{
    // 10 parameters in chunks [0, 4) [8, 10) [4, 8), homed in groups 0, 1, 1: not in order, as the trainer's may be.
    static readonly ParameterRange[] Chunks = [new(0, 4, 0), new(8, 2, 1), new(4, 4, 1)];

    static (float[] Parameters, WeightCopies Copies) Start()
    {
        var parameters = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        return (parameters, new WeightCopies(parameters, groups: 2, Chunks));
    }

    // What the trainer's Adam phase does: new values into the model, the home copy and the inboxes.
    static void Step(float[] parameters, WeightCopies copies, float delta)
    {
        for (int c = 0; c < Chunks.Length; c++)
        {
            var chunk = parameters.AsSpan(Chunks[c].Start, Chunks[c].Length);
            for (int i = 0; i < chunk.Length; i++) chunk[i] += delta;
            chunk.CopyTo(copies.Home(c));
            copies.Send(c, chunk);
        }
        copies.Sent();
    }

    [Fact]
    public void EachGroupStartsFromTheModelsWeightsInACopyOfItsOwn()
    {
        var (parameters, copies) = Start();
        Assert.Equal(parameters, copies.For(0));
        Assert.Equal(parameters, copies.For(1));
        Assert.NotSame(copies.For(0), copies.For(1));
        Assert.NotSame(parameters, copies.For(0));
    }

    [Fact]
    public void AfterAStepEveryGroupReadsTheNewWeightsAndTheInboxesAreEmptied()
    {
        var (parameters, copies) = Start();
        Step(parameters, copies, 0.5f);
        Assert.Equal(parameters, copies.For(0)); // chunk 0 from its home, 1 and 2 from the inbox
        Assert.Equal(parameters, copies.For(1)); // chunks 1 and 2 from its home, 0 from the inbox
        copies.Taken();
        Step(parameters, copies, 0.25f);
        Assert.Equal(parameters, copies.For(0));
        Assert.Equal(parameters, copies.For(1));
    }

    [Fact]
    public void AStepThatStopsBeforeAdamLeavesTheCopiesAsTheyWere()
    {
        // A diverged step runs the groups (which take their inboxes) but no Adam: the next step
        // must not take the emptied inboxes again.
        var (parameters, copies) = Start();
        Step(parameters, copies, 0.5f);
        copies.For(0); copies.For(1); copies.Taken();  // the step that diverges
        Assert.Equal(parameters, copies.For(0));      // the next step
        Assert.Equal(parameters, copies.For(1));
    }

    [Theory]
    [InlineData(63_296, 1, false)]     // one thread needs no copies
    [InlineData(63_296, 2, true)]      // the reference model on two threads
    [InlineData(175_744, 2, true)]
    [InlineData(941_312, 2, false)]    // too large: the copies would cost more memory traffic than they save
    [InlineData(3_467_776, 2, false)]
    public void CopiesAreKeptForSmallModelsOnSeveralThreads(int parameters, int groups, bool expected) =>
        Assert.Equal(expected, WeightCopies.Worthwhile(parameters, groups));
}
