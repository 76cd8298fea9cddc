namespace MicroGpt.Commands;

/// <summary>
/// The error ids the cmdlets raise (the first part of an ErrorRecord's FullyQualifiedErrorId),
/// so that scripts and tests can tell failures apart without reading messages.
/// </summary>
static class ErrorIds
{
    public const string UnknownToken = nameof(UnknownToken);
    public const string InvalidCorpus = nameof(InvalidCorpus);
    public const string CorpusNotFound = nameof(CorpusNotFound);
    public const string CorpusUnreadable = nameof(CorpusUnreadable);
    public const string InvalidConfiguration = nameof(InvalidConfiguration);
    public const string TrainingDiverged = nameof(TrainingDiverged);
    public const string ModelNotFinite = nameof(ModelNotFinite);
    public const string ModelBusy = nameof(ModelBusy);
    public const string ModelFileNotFound = nameof(ModelFileNotFound);
    public const string ModelFileCorrupt = nameof(ModelFileCorrupt);
    public const string VocabularyMismatch = nameof(VocabularyMismatch);
    public const string ModelFileExists = nameof(ModelFileExists);
    public const string FileWriteFailed = nameof(FileWriteFailed);
    public const string CheckpointMismatch = nameof(CheckpointMismatch);
    public const string InvalidChartData = nameof(InvalidChartData);
    public const string TextTooLong = nameof(TextTooLong);
    public const string LayerOutOfRange = nameof(LayerOutOfRange);
    public const string HeadOutOfRange = nameof(HeadOutOfRange);
    public const string PositionOutOfRange = nameof(PositionOutOfRange);
}
