namespace NtkFast.Cli.Experiments;

/// <summary>
/// How big an experiment run is: <see cref="Quick"/> takes seconds (the test suite runs it and
/// checks the science), <see cref="Default"/> a few minutes on 2 cores (every reduction against
/// the paper is stated in the summary), <see cref="Paper"/> the paper's exact settings.
/// </summary>
public enum ExperimentSize
{
    Quick,
    Default,
    Paper,
}
