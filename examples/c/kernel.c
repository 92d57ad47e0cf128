/*
 * examples/c/kernel.c — NtkFast from C: the infinite-width NTK/NNGP of three points, kernel regression at
 * t = inf on them, an empirical NTK, and an error message. Exits non-zero if a value is off.
 *
 *   bash scripts/build-native.sh          # publishes artifacts/native/libntkfast.so, builds and runs this
 * or by hand:
 *   cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude examples/c/kernel.c -Lartifacts/native -lntkfast \
 *      -Wl,-rpath,"$PWD/artifacts/native" -lm -o artifacts/native/kernel-example
 *   artifacts/native/kernel-example [--bench]
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntkfast.h"

static int failures = 0;

static void check(const char *what, double got, double want, double tol)
{
    int ok = fabs(got - want) <= tol;
    printf("%-34s %12.6f  (expected %.6f) %s\n", what, got, want, ok ? "ok" : "MISMATCH");
    if (!ok) failures++;
}

/* Prints the library's message for a failed call and exits. */
static void must(int status, const char *call)
{
    if (status == NTK_OK) return;
    char msg[512];
    ntk_last_error(msg, sizeof msg);
    fprintf(stderr, "%s failed (status %d): %s\n", call, status, msg);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    printf("libntkfast %s\n", ntk_version());
    char info[256];
    ntk_runtime_info(info, sizeof info);
    printf("%s\n", info);

    /* Three points in 2-D, rows = points (the README's library example). */
    const double x[3 * 2] = { 1, 0,   0.6, 0.8,   -1, 0 };
    double theta[3 * 3], sigma[3 * 3];
    must(ntk_kernel(x, 3, 2, NULL, 3, 0, 2, /*depth*/ 4, "relu", /*beta*/ 0.1, /*weight_std*/ 1.0,
                    theta, 3, sigma, 3), "ntk_kernel");
    check("NTK   Theta(x0, x1), relu, L = 4", theta[0 * 3 + 1], 0.151732, 5e-7);
    check("NNGP  Sigma(x0, x1), relu, L = 4", sigma[0 * 3 + 1], 0.066927, 5e-7);
    check("symmetry Theta(x1, x0) - Theta(x0, x1)", theta[1 * 3 + 0] - theta[0 * 3 + 1], 0, 0);

    /* Depth 1 is the linear kernel sigma_w^2 x.x'/d + beta^2 for every activation. */
    double lin;
    must(ntk_kernel(x, 1, 2, x + 2, 1, 2, 2, 1, "erf", 0.1, 1.0, &lin, 1, NULL, 0), "ntk_kernel");
    check("L = 1: x0.x1/2 + 0.01", lin, 0.6 / 2 + 0.01, 1e-15);

    /* Kernel regression at t = inf reproduces the training targets. */
    const double y[3] = { 1, -2, 0.5 };
    double mean[3];
    must(ntk_predict(theta, 3, 3, theta, 3, 3, y, 1, 1, INFINITY, 0.0, mean, 1,
                     NULL, 0, NULL, 0, NULL, NULL), "ntk_predict");
    for (int i = 0; i < 3; i++) {
        char what[64];
        snprintf(what, sizeof what, "f_inf(x%d) = y%d", i, i);
        check(what, mean[i], y[i], 1e-9);
    }

    /* An empirical NTK of a wide seeded network is close to Theta (Theorem 1: O(1/sqrt(width))). */
    const int64_t widths[] = { 2, 2048, 2048, 2048, 1 };
    int64_t count;
    must(ntk_mlp_parameter_count(widths, 5, &count), "ntk_mlp_parameter_count");
    double *params = malloc(sizeof(double) * (size_t)count);
    if (!params) return 1;
    must(ntk_mlp_init(widths, 5, 1, params, count), "ntk_mlp_init");
    double emp[3 * 3];
    must(ntk_empirical_kernel(widths, 5, "relu", 0.1, 1.0, params, count, x, 3, 2, NULL, 3, 0, emp, 3, NULL, 0),
         "ntk_empirical_kernel");
    check("empirical NTK(x0, x1), width 2048", emp[0 * 3 + 1], theta[0 * 3 + 1], 0.05);
    free(params);

    /* Errors: a status code and a message, never a crash. */
    int status = ntk_kernel(x, 3, 2, NULL, 3, 0, 2, 4, "rleu", 0.1, 1.0, theta, 3, NULL, 0);
    printf("bad activation -> status %d: %s\n", status, ntk_last_error_message());
    if (status != NTK_ERR_ARGUMENT || strstr(ntk_last_error_message(), "rleu") == NULL) failures++;
    status = ntk_kernel(x, 3, 1, NULL, 3, 0, 2, 4, "relu", 0.1, 1.0, theta, 3, NULL, 0);
    printf("ld_x1 < d      -> status %d: %s\n", status, ntk_last_error_message());
    if (status != NTK_ERR_ARGUMENT) failures++;
    const double dup[2 * 2] = { 1, 0, 1, 0 };   /* two equal points: a singular Theta at t = inf */
    double th2[4], m2[2];
    must(ntk_kernel(dup, 2, 2, NULL, 2, 0, 2, 3, "relu", 0.0, 1.0, th2, 2, NULL, 0), "ntk_kernel");
    status = ntk_predict(th2, 2, 2, th2, 2, 2, y, 1, 1, INFINITY, 0.0, m2, 1, NULL, 0, NULL, 0, NULL, NULL);
    printf("singular       -> status %d: %s\n", status, ntk_last_error_message());
    if (status != NTK_ERR_COMPUTE) failures++;

    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        /* Per-call cost of a tiny kernel (3 points, depth 4): boundary + validation + the computation. */
        const int reps = 20000;
        double t0 = now();
        for (int r = 0; r < reps; r++)
            ntk_kernel(x, 3, 2, NULL, 3, 0, 2, 4, "relu", 0.1, 1.0, theta, 3, sigma, 3);
        double t1 = now();
        for (int r = 0; r < reps; r++) ntk_get_threads();
        double t2 = now();
        printf("bench: ntk_kernel 3x3 relu L=4: %.2f us/call; empty call ntk_get_threads: %.1f ns/call\n",
               (t1 - t0) / reps * 1e6, (t2 - t1) / reps * 1e9);
    }

    if (failures) printf("%d FAILED\n", failures);
    else printf("all checks passed\n");
    return failures ? 1 : 0;
}
