namespace MicroGpt.Tests.Engine;

public class WeightCopiesTests
{
    // 37 parameters in chunks [0, 13) [29, 37) [13, 29), homed in groups 0, 1, 1: not in order, as
    // the trainer's may be, and of lengths that take both the vector and the scalar loop.
    static readonly ParameterRange[] Chunks = [new(0, 13, 0), new(29, 8, 1), new(13, 16, 1)];

    static (float[] Parameters, WeightCopies Copies) Start()
    {
        var parameters = Enumerable.Range(0, 37).Select(i => (float)i).ToArray();
        return (parameters, new WeightCopies(parameters, groups: 2, Chunks));
    }

    // What the trainer's Adam phase does: new values into the model, the home copy (none for group 0) and the other copies.
    static void Step(float[] parameters, WeightCopies copies, float delta)
    {
        for (int c = 0; c < Chunks.Length; c++)
        {
            var chunk = parameters.AsSpan(Chunks[c].Start, Chunks[c].Length);
            for (int i = 0; i < chunk.Length; i++) chunk[i] += delta;
            if (!copies.Home(c).IsEmpty) chunk.CopyTo(copies.Home(c));
            copies.Send(c, chunk);
        }
    }

    [Fact]
    public void GroupZeroReadsTheParametersAndEveryOtherGroupACopyOfItsOwn()
    {
        var (parameters, copies) = Start();
        Assert.Same(parameters, copies.For(0));
        Assert.Equal(parameters, copies.For(1));
        Assert.NotSame(parameters, copies.For(1));
        Assert.True(copies.Home(0).IsEmpty);         // chunk 0 is homed in group 0: Adam's parameters are its copy
        Assert.Equal(16, copies.Home(2).Length);
    }

    [Fact]
    public void AfterEveryStepEveryGroupReadsTheNewWeights()
    {
        var (parameters, copies) = Start();
        foreach (float delta in new[] { 0.5f, 0.25f, -3f })
        {
            Step(parameters, copies, delta);
            Assert.Equal(parameters, copies.For(1)); // chunks 1 and 2 from its home, 0 from the other thread (group 0 reads the parameters)
            copies.Claim(0);                         // as each group does after its passes
            copies.Claim(1);
        }
    }

    [Fact]
    public void ClaimingAgainWithoutAStepChangesNothing()
    {
        // A step that diverges runs the groups (which claim their copies) but no Adam.
        var (parameters, copies) = Start();
        Step(parameters, copies, 0.5f);
        copies.Claim(0); copies.Claim(1);           // the step that diverges: its groups claim, no Adam runs
        copies.Claim(0);                            // and claiming twice changes nothing either
        Assert.Equal(parameters, copies.For(1));    // the next step
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
