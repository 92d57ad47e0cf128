/*
 * ntkfast.h — the C ABI of libntkfast.so (NtkFast's NativeAOT shared library).
 *
 * Build the library with scripts/build-native.sh (or
 *   dotnet publish src/NtkFast.Native -c Release -r linux-x64 -o artifacts/native)
 * and link with  cc prog.c -Iinclude -Lartifacts/native -lntkfast -Wl,-rpath,'$ORIGIN/...'
 *
 * Conventions (every function):
 *   - Matrices are caller-owned, row-major float64 buffers. A matrix of R rows and C columns with
 *     leading dimension ld (>= C) has element (i, j) at p[i*ld + j]; it spans (R-1)*ld + C doubles.
 *     Points are rows. One buffer holds at most INT32_MAX doubles.
 *   - Sizes are int64_t so that a negative size is reported, not wrapped.
 *   - Inputs are never modified. Every input entry must be finite (NaN/Inf is rejected with the
 *     position in the message). Outputs must not overlap inputs.
 *   - Return value: NTK_OK (0), NTK_ERR_COMPUTE (1: the computation failed, e.g. a numerically singular
 *     kernel at t = inf, or out of memory) or NTK_ERR_ARGUMENT (2: a NULL pointer, a bad size or leading
 *     dimension, a non-finite input, an unknown activation, an unreadable file, ...). On failure nothing
 *     is guaranteed about the output buffers; ntk_last_error gives a one-line message.
 *   - The library is thread-safe; the last-error message is per thread. Results are bitwise identical for
 *     every thread count (ntk_set_threads, or NTKFAST_THREADS read at load time).
 *   - Mathematics and defaults are those of docs/design.md §1: NTK parameterisation, weight std σw
 *     (default 1), bias std β (default 0.1), depth L = number of weight layers; NNGP = Σ(L), NTK = Θ(L);
 *     kernels are the scalar ones (a network with nL outputs has Σ(L) ⊗ Id, Θ(L) ⊗ Id).
 */
#ifndef NTKFAST_H
#define NTKFAST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NTK_OK           0
#define NTK_ERR_COMPUTE  1
#define NTK_ERR_ARGUMENT 2

/* ---- library information and errors ---------------------------------------------------------- */

/* The library version, e.g. "0.1.0" (a static string; do not free). */
const char *ntk_version(void);

/* One line: version, .NET runtime, the SIMD path in use and the thread count. Copies at most len-1 bytes
 * and a NUL into buf (buf may be NULL when len is 0) and returns the full length, as snprintf does. */
size_t ntk_runtime_info(char *buf, size_t len);

/* The activation names ntk_kernel accepts, comma-separated ("relu,leaky_relu[:A],abs,erf,..."; ":A" is an
 * optional parameter, e.g. "leaky_relu:0.2", "elu:1.5"). Same buffer convention as ntk_runtime_info. */
size_t ntk_activations(char *buf, size_t len);

/* The message of the last call on this thread that failed ("" after a call that succeeded).
 * Same buffer convention as ntk_runtime_info: returns the message's full length in bytes (UTF-8). */
size_t ntk_last_error(char *buf, size_t len);

/* The same message as a NUL-terminated UTF-8 string owned by the library, valid on this thread until the
 * next ntk_* call on it. */
const char *ntk_last_error_message(void);

/* Largest number of threads a computation uses (>= 1; 0 = the number of processors). Process-wide. */
int ntk_set_threads(int threads);
int ntk_get_threads(void);

/* ---- infinite-width kernels (Jacot et al. 2018, Proposition 1 and Theorem 1) ------------------ */

/* Θ(L) (ntk) and/or Σ(L) (nngp) of the points X1 (n1 × d, leading dimension ld_x1) against X2 (n2 × d,
 * ld_x2): n1 × n2 outputs with leading dimensions ld_ntk, ld_nngp (>= n2).
 *   x2 == NULL: X2 = X1 (n2 must equal n1; ld_x2 is ignored); the symmetric path computes one triangle.
 *   ntk or nngp may be NULL (not wanted), not both; a NULL output's leading dimension is ignored.
 *   depth: 1 ... 10000 weight layers. activation: a name of ntk_activations ("relu", "erf",
 *   "leaky_relu:0.2", ...; case-insensitive). beta, weight_std: finite, >= 0.
 * n1 = 0 or n2 = 0 is valid and writes nothing. */
int ntk_kernel(const double *x1, int64_t n1, int64_t ld_x1,
               const double *x2, int64_t n2, int64_t ld_x2, int64_t d,
               int depth, const char *activation, double beta, double weight_std,
               double *ntk, int64_t ld_ntk, double *nngp, int64_t ld_nngp);

/* ntk_kernel with two more options: trainable_from (the NTK of a network whose first K weight layers are
 * frozen, 0 ... depth - 1; 0 = all trained) and quadrature_degree (0 = the default rule; for activations
 * without a closed-form dual, the polar quadrature rule with that many nodes per piece, 2 ... 64; an error
 * for closed-form activations, which are exact). */
int ntk_kernel_ex(const double *x1, int64_t n1, int64_t ld_x1,
                  const double *x2, int64_t n2, int64_t ld_x2, int64_t d,
                  int depth, const char *activation, double beta, double weight_std,
                  int trainable_from, int quadrature_degree,
                  double *ntk, int64_t ld_ntk, double *nngp, int64_t ld_nngp);

/* Θ and/or Σ of a network built from layers (`ntk kernel --arch`; docs/notes/arch.md), e.g.
 * "conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1", on images X1 (n1 images of height × width ×
 * channels values, channels last, packed one after another) against X2 (n2 images; NULL: X2 = X1).
 * N×d points are height = width = 1, channels = d. beta and weight_std are the layers' defaults. Outputs
 * n1 × n2 as for ntk_kernel. A bad spec or a shape the spec cannot take is status 2 with its message. */
int ntk_arch_kernel(const char *arch, double beta, double weight_std,
                    const double *x1, int64_t n1, const double *x2, int64_t n2,
                    int64_t height, int64_t width, int64_t channels,
                    double *ntk, int64_t ld_ntk, double *nngp, int64_t ld_nngp);

/* ---- finite networks and empirical kernels ---------------------------------------------------- */
/* An MLP has widths n0 (inputs) ... nL (outputs), n_widths = L + 1 >= 2. Its parameters θ are one vector
 * W(0), b(0), W(1), b(1), ... with W(l) n(l+1) × n(l) row-major and b(l) n(l+1) entries — the order and
 * shapes of `ntk init`'s .npz files (arrays W0, b0, W1, ...). */

/* The number of parameters of an MLP with these widths, into *count. */
int ntk_mlp_parameter_count(const int64_t *widths, int64_t n_widths, int64_t *count);

/* θ iid N(0, 1) from the seed: the same values as `ntk init --seed SEED` (float64), on every machine. */
int ntk_mlp_init(const int64_t *widths, int64_t n_widths, uint64_t seed, double *params, int64_t n_params);

/* The empirical NTK Θ̂ (trace over outputs divided by nL, what converges to Θ(L)) and/or the empirical
 * NNGP of the network (widths, activation, beta, weight_std, params as above; float64) on X1 (n1 × n0)
 * against X2 (n2 × n0); x2 == NULL means X2 = X1 (n2 = n1). Outputs n1 × n2 as for ntk_kernel. */
int ntk_empirical_kernel(const int64_t *widths, int64_t n_widths, const char *activation,
                         double beta, double weight_std, const double *params, int64_t n_params,
                         const double *x1, int64_t n1, int64_t ld_x1,
                         const double *x2, int64_t n2, int64_t ld_x2,
                         double *ntk, int64_t ld_ntk, double *nngp, int64_t ld_nngp);

/* The same for the network in a parameter file (`ntk init` / `ntk train` .npz, UTF-8 path); d must equal
 * its input width n0. A float32 file computes in float32 as `ntk empirical` does (kernels in float64). */
int ntk_empirical_kernel_npz(const char *path, int64_t d,
                             const double *x1, int64_t n1, int64_t ld_x1,
                             const double *x2, int64_t n2, int64_t ld_x2,
                             double *ntk, int64_t ld_ntk, double *nngp, int64_t ld_nngp);

/* ---- function-space dynamics (Theorem 2, §5): kernel regression at training time t ------------ */

/* The mean output of the infinitely wide network trained by gradient descent for time t on (X, Y), at the
 * test points, with f_0 = 0 (the average over initialisations):
 *     mean = Θ(X*, X) Θ⁻¹ (I − exp(−t Θ / n)) Y        (t = INFINITY: kernel regression Θ(X*, X) Θ⁻¹ Y)
 *   k_train: Θ(X, X), n × n (symmetric; the lower triangle is read). k_test: Θ(X*, X), m × n.
 *   y: n × k targets (one column per output). mean: m × k output.
 *   t >= 0 or INFINITY (steps × learning rate). ridge >= 0: ridge · mean(diag Θ) is added to Θ's
 *   diagonal (0 = none; t = INFINITY on a singular Θ fails with NTK_ERR_COMPUTE and asks for e.g. 1e-10).
 * variance (optional, m entries): the variance over initialisations of the output (the same for every
 * column; f_0 ~ GP(0, Σ), Σ = the NNGP kernel). Needs sigma_train = Σ(X, X) (n × n), sigma_test = Σ(X*, X)
 * (m × n) and sigma_test_diag = Σ(x*_i, x*_i) (m); they are ignored when variance is NULL. */
int ntk_predict(const double *k_train, int64_t n, int64_t ld_k_train,
                const double *k_test, int64_t m, int64_t ld_k_test,
                const double *y, int64_t k, int64_t ld_y,
                double t, double ridge,
                double *mean, int64_t ld_mean,
                const double *sigma_train, int64_t ld_sigma_train,
                const double *sigma_test, int64_t ld_sigma_test,
                const double *sigma_test_diag, double *variance);

#ifdef __cplusplus
}
#endif

#endif /* NTKFAST_H */
