using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>
/// Receives a full test covariance a block of rows at a time: <paramref name="rows"/> holds rows
/// <paramref name="rowStart"/>… of time <paramref name="timeIndex"/>'s M×M covariance (count×M, C order). Blocks arrive in
/// order (time by time, rows ascending); the matrix is reused for the next block, so copy or write it before returning.
/// </summary>
public delegate void CovarianceRowsSink(int timeIndex, int rowStart, Matrix rows);
