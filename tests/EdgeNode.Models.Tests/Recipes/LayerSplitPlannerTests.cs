using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Recipes;

public sealed class LayerSplitPlannerTests
{
    [Fact]
    public void Equal_layers_with_nothing_at_the_ends_split_evenly()
    {
        var plan = LayerSplitPlanner.Plan([10, 10, 10, 10, 10, 10], 0, 0, 3);
        Assert.Equal("0:2,2:4,4:6", plan.LayerRanges);
        Assert.Equal([20L, 20, 20], plan.Slices.Select(s => s.WeightBytes));
    }

    [Fact]
    public void A_heavy_embedding_does_not_push_layers_off_the_first_node()
    {
        // Worked by hand: a token reads one embedding row, so the split balances what each node reads per token —
        // node 0 its layers, node 1 its layers plus the head (5). 2|2 reads (20, 25); 3|1 reads (30, 15). The
        // embedding (25) still counts in what node 0 holds.
        var plan = LayerSplitPlanner.Plan([10, 10, 10, 10], 25, 5, 2);
        Assert.Equal("0:2,2:4", plan.LayerRanges);
        Assert.Equal([45L, 25], plan.Slices.Select(s => s.WeightBytes));
        Assert.True(plan.Slices[0].Embed);
        Assert.False(plan.Slices[0].Head);
        Assert.True(plan.Slices[1].Head);
        Assert.Equal(45, plan.MaxNodeBytes);
    }

    [Fact]
    public void Between_equally_fast_plans_the_one_holding_less_on_its_fullest_node_wins()
    {
        // 2|3 and 3|2 both read at most 30 per token; 2|3 holds (120, 30) and 3|2 holds (130, 20).
        var plan = LayerSplitPlanner.Plan([10, 10, 10, 10, 10], 100, 0, 2);
        Assert.Equal("0:2,2:5", plan.LayerRanges);
    }

    [Fact]
    public void Nodes_that_do_not_decide_the_bounds_are_balanced_too()
    {
        // Uneven layers: the busiest node is fixed at 6 (the single heavy layer); the rest still split evenly.
        var plan = LayerSplitPlanner.Plan([6, 1, 1, 1, 1, 1, 1, 1, 1], 100, 0, 3);
        Assert.Equal("0:1,1:5,5:9", plan.LayerRanges);
    }

    [Fact]
    public void One_node_holds_everything()
    {
        var plan = LayerSplitPlanner.Plan([3, 4, 5], 7, 11, 1);
        Assert.Equal("0:3", plan.LayerRanges);
        Assert.Equal(30, plan.Slices[0].WeightBytes);
        Assert.True(plan.Slices[0].Embed && plan.Slices[0].Head);
    }

    [Fact]
    public void More_nodes_than_layers_is_an_error_saying_how_many_fit()
    {
        var error = Assert.Throws<ArgumentException>(() => LayerSplitPlanner.Plan([1, 1, 1], 0, 0, 4));
        Assert.Contains("use at most 3 nodes", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The footprint against the files a real conversion writes: embed.onnx and head.onnx hold little besides their weights.</summary>
    [Theory]
    [InlineData(WeightPrecision.Fp32, 0, false)]
    [InlineData(WeightPrecision.Int8, 128, false)]
    [InlineData(WeightPrecision.Int4, 64, false)]
    [InlineData(WeightPrecision.Int4, 32, true)]
    public void The_footprint_matches_the_weights_a_conversion_writes(WeightPrecision precision, int blockSize, bool asymmetric)
    {
        using var dir = TestPaths.NewTempDirectory("footprint");
        var options = new ConversionOptions
        {
            Precision = precision, BlockSize = blockSize == 0 ? null : blockSize, Asymmetric = asymmetric, LayerRanges = [(0, 5)],
        };
        ModelConverter.Convert(TestPaths.Model("stories260K", "stories260K.bin"), TestPaths.Model("stories260K", "tok512.bin"), dir.Path, options);
        var footprint = new WeightFootprint(RecipeCatalog.Find("stories260K").Shape, precision, blockSize, asymmetric);

        // Large tensors live in "<slice>.data" beside the graph, each aligned to 64 bytes.
        long Size(string file) => Directory.GetFiles(dir.Path, file + "*").Sum(f => new FileInfo(f).Length);
        // The graph around the weights (names, nodes, shapes) and alignment padding take a few hundred bytes.
        Assert.InRange(Size("embed.onnx") - footprint.EmbeddingBytes, 0, 2048);
        Assert.InRange(Size("head.onnx") - footprint.HeadBytes, 0, 2048);
        // A layer slice also stores RoPE cos/sin tables (context × head size / 2 × 2 floats) and per-node graph text.
        var rope = 512L * 8 / 2 * 2 * 4;
        Assert.InRange(Size("layers_0_5.onnx") - 5 * footprint.LayerBytes - rope, 0, 5 * 8192);
    }
}
