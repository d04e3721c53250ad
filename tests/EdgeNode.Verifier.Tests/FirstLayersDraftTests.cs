using EdgeNode.Inference.Sessions;
using EdgeNode.Models;

namespace EdgeNode.Verifier.Tests;

/// <summary>The target's first layers and its head as a draft of their own (the "self-layers:K" drafter).</summary>
[Collection(PairModelsCollection.Name)]
public sealed class FirstLayersDraftTests(PairModels models)
{
    [Fact]
    public void TheFirstHalfRunsHalfTheLayersAndKeepsTheTargetsVocabulary()
    {
        var target = models.Get("stories260K");
        var draft = models.FirstHalf("stories260K");
        Assert.Equal(target.Config.Layers / 2, draft.LayersRun);
        Assert.Equal(target.Config.Layers, target.LayersRun);
        Assert.Equal(target.KvBytesPerPosition * draft.LayersRun / target.LayersRun, draft.KvBytesPerPosition);
        using var targetState = target.CreateState(64);
        using var draftState = draft.CreateState(64);
        var prompt = target.Tokenizer.Encode("Once upon a time");
        var full = target.Forward(prompt, targetState).ToArray();
        var early = draft.Forward(prompt, draftState).ToArray();
        Assert.Equal(full.Length, early.Length);
        // Skipping layers changes the logits: this is not the whole model under another name.
        Assert.NotEqual(full, early);
    }

    [Fact]
    public void AFolderWithoutABoundaryThereNamesTheConversionThatMakesOne()
    {
        var whole = models.Get("stories260K");
        var error = Assert.Throws<ModelFormatException>(() => LocalModel.Load(models.Runtime, whole.Folder, firstLayers: 2));
        Assert.Contains("no layer slice ends at layer 2", error.Message, StringComparison.Ordinal);
        Assert.Contains($"--layers 0:2,2:{whole.Config.Layers}", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => LocalModel.Load(models.Runtime, whole.Folder, firstLayers: 0));
    }
}
