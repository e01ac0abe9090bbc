/*
 * float.c - floating point, f64 and f32.
 *
 * What it stresses: f64 and f32 add/mul/div/sqrt, comparisons and
 * int<->float conversions.  Kernels: a small f64 gravity simulation (eight
 * bodies, all pairs, with sqrt), an f32 escape-time fractal on a grid, and
 * an f64 polynomial evaluated by Horner's rule.  Only + - * / and sqrt
 * are used: IEEE 754 rounds them exactly the same on every platform, so the
 * native and the wasm build agree to the bit.
 */
#include <math.h>

#include "common.h"

#define NBODY 8

typedef struct body {
    double x, y, z, vx, vy, vz, mass;
} body;

static body bodies[NBODY];

static void bodies_init(void)
{
    for (int i = 0; i < NBODY; i++) {
        double t = (double)i;
        bodies[i] = (body){ t * 1.25 - 4.0, t * t * 0.1 - 2.0, 3.0 - t * 0.5,
                            0.01 * t, -0.02 * t, 0.005, 1.0 + t * 0.25 };
    }
}

static NOINLINE void bodies_step(double dt)
{
    for (int i = 0; i < NBODY; i++) {
        body *a = &bodies[i];
        for (int j = i + 1; j < NBODY; j++) {
            body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            double d2 = dx * dx + dy * dy + dz * dz + 0.01;
            double mag = dt / (d2 * sqrt(d2));
            a->vx -= dx * b->mass * mag;
            a->vy -= dy * b->mass * mag;
            a->vz -= dz * b->mass * mag;
            b->vx += dx * a->mass * mag;
            b->vy += dy * a->mass * mag;
            b->vz += dz * a->mass * mag;
        }
    }
    for (int i = 0; i < NBODY; i++) {
        bodies[i].x += dt * bodies[i].vx;
        bodies[i].y += dt * bodies[i].vy;
        bodies[i].z += dt * bodies[i].vz;
    }
}

/* Iterations until z = z^2 + c leaves the radius-2 disc, at most 64. */
static NOINLINE int escape_f32(float cr, float ci)
{
    float zr = 0.0f, zi = 0.0f;
    int n = 0;
    while (n < 64 && zr * zr + zi * zi < 4.0f) {
        float t = zr * zr - zi * zi + cr;
        zi = 2.0f * zr * zi + ci;
        zr = t;
        n++;
    }
    return n;
}

static NOINLINE double horner(double x)
{
    static const double c[] = { 1.0, -0.5, 0.25, -0.125, 0.0625, -0.03125,
                                0.015625, -0.0078125, 0.00390625 };
    double r = 0.0;
    for (int i = 8; i >= 0; i--)
        r = r * x + c[i];
    return r;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 8);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        bodies_init();
        for (int s = 0; s < 20000; s++)
            bodies_step(0.001);
        for (int i = 0; i < NBODY; i++)
            h = bench_mix_f64(h, bodies[i].x + bodies[i].vy);

        uint32_t total = 0;
        float fsum = 0.0f;
        for (int y = 0; y < 120; y++)
            for (int x = 0; x < 160; x++) {
                int n = escape_f32(-2.0f + (float)x * 0.01875f + (float)r * 1e-4f,
                                   -1.2f + (float)y * 0.02f);
                total += (uint32_t)n;
                fsum += (float)n * 0.5f;
            }
        h = bench_mix(h, total);
        h = bench_mix_f32(h, fsum);

        double acc = 0.0;
        for (int i = 0; i < 100000; i++)
            acc += horner((double)(i % 1000) * 0.001 - 0.5);
        h = bench_mix_f64(h, acc);
    }
    bench_report("float", h);
    return 0;
}
