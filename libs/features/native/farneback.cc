// Part of the @vmr/features addon (vmr_features.node; addon.cc registers it).
// Native dense optical flow (Farnebäck 2003, "Two-Frame Motion Estimation Based on Polynomial
// Expansion") with the numeric procedure of OpenCV's calcOpticalFlowFarneback (flags 0: box-filter
// flow update), written for VMR Lab's ingest (libs/features/src/flow/native-farneback.ts).
//
// Why it exists: a flow trajectory computes flow over consecutive pairs (f0,f1), (f1,f2), … and
// OpenCV recomputes both frames' pyramid and polynomial expansion for every pair, so each frame is
// expanded twice. This keeps the last frame's expansion and reuses it when the next pair starts with
// the same bytes (compared, not assumed). The arithmetic follows OpenCV's scalar code path (the one
// OpenCV.js runs) operation for operation, in the same precisions (float where OpenCV uses float,
// double where it uses double) and without contraction into fused multiply-adds, so the flow equals
// OpenCV.js's to the last bit or nearly; libs/features/src/flow/native-farneback.spec.ts checks it
// against OpenCV.js and the OpenCV-Python fixtures.
//
// Per pair and per pyramid level k (coarse to fine, scale s = pyrScale^k):
//   I_k   = resize(GaussianBlur(float(frame), ksize_k, sigma_k), s·size)   (sigma_k = (1/s − 1)/2)
//   R_k   = polynomial expansion of I_k (5 coefficients per pixel, Gaussian applicability)
//   flow  = upsampled flow of level k+1 × 1/pyrScale (zeros at the coarsest level)
//   repeat `iterations` times: M = UpdateMatrices(R0, R1, flow); flow = solve(boxblur(M))
#define VMR_ADDON_NAME "vmr_features"
#include "vmr_napi.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#if defined(__SSE2__)
#include <xmmintrin.h>
#include <emmintrin.h>
#endif

namespace {

struct Params {
  double pyrScale = 0.5;
  int levels = 3;
  int winsize = 15;
  int iterations = 3;
  int polyN = 5;
  double polySigma = 1.2;
};

// OpenCV's cvRound (round half to even) and cvFloor.
inline int roundHalfEven(double v) { return int(std::nearbyint(v)); }
inline int floorInt(float v) {
  int i = int(v);
  return i - (float(i) > v ? 1 : 0);
}

// BORDER_REFLECT_101 index (gfedcb|abcdefgh|gfedcba), for any distance outside [0, n).
inline int reflect101(int p, int n) {
  if (n == 1) return 0;
  while (p < 0 || p >= n) {
    if (p < 0) p = -p;
    if (p >= n) p = 2 * n - 2 - p;
  }
  return p;
}

// Gaussian smoothing kernel (getGaussianKernel, float taps): the fixed binomial tables for sigma ≤ 0
// and n ≤ 7, else exp(−x²/2σ²) normalised to sum 1 (computed symmetric, in double).
std::vector<float> gaussianKernel(int n, double sigma) {
  std::vector<float> k(n);
  if (sigma <= 0 && (n == 1 || n == 3 || n == 5 || n == 7)) {
    static const float t1[] = {1.f};
    static const float t3[] = {0.25f, 0.5f, 0.25f};
    static const float t5[] = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
    static const float t7[] = {0.03125f, 0.109375f, 0.21875f, 0.28125f, 0.21875f, 0.109375f, 0.03125f};
    const float* t = n == 1 ? t1 : n == 3 ? t3 : n == 5 ? t5 : t7;
    std::copy(t, t + n, k.begin());
    return k;
  }
  const double s = sigma > 0 ? sigma : n * 0.15 + 0.35;  // ((n−1)/2 − 1)·0.3 + 0.8
  const double scale2 = -0.125 / (s * s);                 // on doubled offsets x = 2i − (n − 1)
  const int half = (n - 1) / 2;
  std::vector<double> v(half + 1);
  double sum = 0;
  for (int i = 0, x = 1 - n; i < half; i++, x += 2) {
    v[i] = std::exp(double(x * x) * scale2);
    sum += v[i];
  }
  sum = sum * 2 + 1;
  if ((n & 1) == 0) sum += 1;
  const double inv = 1. / sum;
  for (int i = 0; i < half; i++) k[i] = k[n - 1 - i] = float(v[i] * inv);
  k[half] = float(inv);
  if ((n & 1) == 0) k[half + 1] = k[half];
  return k;
}

// Separable Gaussian blur of a float image, BORDER_REFLECT_101: rows first, then columns, with the
// tap order of OpenCV's symmetric small (3, 5 taps) and general row/column filters.
void gaussianBlur(const float* src, float* dst, int w, int h, int n, double sigma, std::vector<float>& tmp, std::vector<float>& pad) {
  const std::vector<float> k = gaussianKernel(n, sigma);
  const int r = n / 2;
  tmp.resize(size_t(w) * h);
  pad.resize(size_t(w) + 2 * r);
  // rows
  for (int y = 0; y < h; y++) {
    const float* s = src + size_t(y) * w;
    float* P = pad.data() + r;
    for (int x = -r; x < w + r; x++) P[x] = s[reflect101(x, w)];
    float* d = tmp.data() + size_t(y) * w;
    if (n == 3) {
      const float k0 = k[1], k1 = k[2];
      for (int x = 0; x < w; x++) d[x] = P[x] * k0 + (P[x - 1] + P[x + 1]) * k1;
    } else if (n == 5) {
      const float k0 = k[2], k1 = k[3], k2 = k[4];
      for (int x = 0; x < w; x++) d[x] = P[x] * k0 + (P[x - 1] + P[x + 1]) * k1 + (P[x - 2] + P[x + 2]) * k2;
    } else {
      for (int x = 0; x < w; x++) {
        const float* S = P + x - r;
        float acc = k[0] * S[0];
        for (int j = 1; j < n; j++) acc += k[j] * S[j];
        d[x] = acc;
      }
    }
  }
  // columns
  std::vector<const float*> rows(n);
  for (int y = 0; y < h; y++) {
    for (int j = -r; j <= r; j++) rows[j + r] = tmp.data() + size_t(reflect101(y + j, h)) * w;
    float* d = dst + size_t(y) * w;
    if (n == 3) {
      const float f0 = k[1], f1 = k[2];
      const float *S0 = rows[0], *S1 = rows[1], *S2 = rows[2];
      for (int x = 0; x < w; x++) d[x] = (S0[x] + S2[x]) * f1 + S1[x] * f0 + 0.f;
    } else {
      const float* C = rows[r];
      const float f0 = k[r];
      for (int x = 0; x < w; x++) d[x] = f0 * C[x] + 0.f;
      for (int j = 1; j <= r; j++) {
        const float f = k[r + j];
        const float *A = rows[r + j], *B = rows[r - j];
        for (int x = 0; x < w; x++) d[x] += f * (A[x] + B[x]);
      }
    }
  }
}

// cv::resize of a float image with `cn` interleaved channels, INTER_LINEAR — which OpenCV runs as its
// fast INTER_AREA (mean of 2×2) when both scales are exactly 2.
void resizeLinear(const float* src, int sw, int sh, int cn, float* dst, int dw, int dh, std::vector<float>& hbuf) {
  if (sw == dw && sh == dh) {
    std::memcpy(dst, src, sizeof(float) * size_t(sw) * sh * cn);
    return;
  }
  const double scaleX = 1. / (double(dw) / sw), scaleY = 1. / (double(dh) / sh);
  const int isx = int(std::lround(scaleX)), isy = int(std::lround(scaleY));
  const double eps = 2.220446049250313e-16;
  if (std::fabs(scaleX - isx) < eps && std::fabs(scaleY - isy) < eps && isx == 2 && isy == 2) {
    for (int dy = 0; dy < dh; dy++) {
      const float* a = src + size_t(2 * dy) * sw * cn;
      const float* b = a + size_t(sw) * cn;
      float* d = dst + size_t(dy) * dw * cn;
      for (int dx = 0; dx < dw; dx++)
        for (int c = 0; c < cn; c++) {
          const int i = 2 * dx * cn + c;
          const float sum = a[i] + a[i + cn] + b[i] + b[i + cn];
          d[dx * cn + c] = sum * 0.25f;
        }
    }
    return;
  }
  // horizontal taps
  std::vector<int> xofs(dw);
  std::vector<float> ax(2 * size_t(dw));
  for (int dx = 0; dx < dw; dx++) {
    float fx = float((dx + 0.5) * scaleX - 0.5);
    int sx = floorInt(fx);
    fx -= sx;
    if (sx < 0) fx = 0, sx = 0;
    if (sx >= sw - 1) fx = 0, sx = sw - 1;
    xofs[dx] = sx;
    ax[2 * dx] = 1.f - fx;
    ax[2 * dx + 1] = fx;
  }
  hbuf.resize(2 * size_t(dw) * cn);
  float* H0 = hbuf.data();
  float* H1 = H0 + size_t(dw) * cn;
  auto hrow = [&](int sy, float* out) {
    const float* s = src + size_t(sy) * sw * cn;
    for (int dx = 0; dx < dw; dx++) {
      const int sx = xofs[dx];
      for (int c = 0; c < cn; c++) {
        if (sx + 1 < sw && !(sx == sw - 1)) out[dx * cn + c] = s[sx * cn + c] * ax[2 * dx] + s[(sx + 1) * cn + c] * ax[2 * dx + 1];
        else out[dx * cn + c] = s[sx * cn + c];
      }
    }
  };
  int have0 = -1, have1 = -1;
  for (int dy = 0; dy < dh; dy++) {
    float fy = float((dy + 0.5) * scaleY - 0.5);
    const int sy = floorInt(fy);
    fy -= sy;
    const int r0 = std::min(std::max(sy, 0), sh - 1), r1 = std::min(std::max(sy + 1, 0), sh - 1);
    if (have0 != r0) {
      if (have1 == r0) std::swap(H0, H1), std::swap(have0, have1);
      else hrow(r0, H0), have0 = r0;
    }
    if (have1 != r1) hrow(r1, H1), have1 = r1;
    const float b0 = 1.f - fy, b1 = fy;
    float* d = dst + size_t(dy) * dw * cn;
    for (int i = 0; i < dw * cn; i++) d[i] = H0[i] * b0 + H1[i] * b1;
  }
}

// Hot loops get an AVX2 clone beside the baseline one (chosen at load by the CPU); the compiler may
// vectorise them but never contracts a*b+c into an FMA (-ffp-contract=off), so both clones give the
// same bits.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && !defined(VMR_NO_CLONES)
#define VMR_HOT __attribute__((target_clones("avx2", "default")))
#else
#define VMR_HOT
#endif

struct Scratch {
  std::vector<float> v;
  std::vector<double> b, s;
};

// Polynomial expansion (5 coefficients per pixel: r2, r3 ~ x, y; r4, r5 ~ x², y²; r6 ~ xy) with a
// Gaussian applicability of half-size n and the given sigma; replicated borders.
struct PolyKernel {
  int n = 0;
  double sigma = 0;
  std::vector<float> buf;  // g, xg, xxg, each [-n, n]
  double ig11 = 0, ig03 = 0, ig33 = 0, ig55 = 0;
  const float* g() const { return buf.data() + n; }
  const float* xg() const { return buf.data() + 3 * n + 1; }
  const float* xxg() const { return buf.data() + 5 * n + 2; }
};

// In-place inverse of a symmetric positive-definite matrix by Cholesky (L·Lᵀ with reciprocal
// diagonal, then forward and back substitution on the identity), as cv::invert(DECOMP_CHOLESKY).
bool choleskyInverse(double* A, int m, double* B) {
  for (int i = 0; i < m; i++) {
    int j;
    for (j = 0; j < i; j++) {
      double s = A[i * m + j];
      for (int k = 0; k < j; k++) s -= A[i * m + k] * A[j * m + k];
      A[i * m + j] = s * A[j * m + j];
    }
    double s = A[i * m + i];
    for (int k = 0; k < j; k++) {
      const double t = A[i * m + k];
      s -= t * t;
    }
    if (s < 2.220446049250313e-16) return false;
    A[i * m + i] = 1. / std::sqrt(s);
  }
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) B[i * m + j] = i == j ? 1 : 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) {
      double s = B[i * m + j];
      for (int k = 0; k < i; k++) s -= A[i * m + k] * B[k * m + j];
      B[i * m + j] = s * A[i * m + i];
    }
  for (int i = m - 1; i >= 0; i--)
    for (int j = 0; j < m; j++) {
      double s = B[i * m + j];
      for (int k = m - 1; k > i; k--) s -= A[k * m + i] * B[k * m + j];
      B[i * m + j] = s * A[i * m + i];
    }
  return true;
}

bool preparePolyKernel(PolyKernel& pk, int n, double sigma) {
  pk.n = n;
  pk.sigma = sigma;
  pk.buf.assign(6 * size_t(n) + 3, 0.f);
  float* g = pk.buf.data() + n;
  float* xg = g + 2 * n + 1;
  float* xxg = xg + 2 * n + 1;
  if (sigma < 1.1920928955078125e-07) sigma = n * 0.3;
  double s = 0;
  for (int x = -n; x <= n; x++) {
    g[x] = float(std::exp(-x * x / (2 * sigma * sigma)));
    s += g[x];
  }
  s = 1. / s;
  for (int x = -n; x <= n; x++) {
    g[x] = float(g[x] * s);
    xg[x] = float(x * g[x]);
    xxg[x] = float(x * x * g[x]);
  }
  double G[36] = {0};
  for (int y = -n; y <= n; y++)
    for (int x = -n; x <= n; x++) {
      G[0] += g[y] * g[x];
      G[7] += g[y] * g[x] * x * x;
      G[21] += g[y] * g[x] * x * x * x * x;
      G[35] += g[y] * g[x] * x * x * y * y;
    }
  G[14] = G[3] = G[4] = G[18] = G[24] = G[7];  // (2,2) (0,3) (0,4) (3,0) (4,0) = (1,1)
  G[28] = G[21];                               // (4,4) = (3,3)
  G[22] = G[27] = G[35];                       // (3,4) (4,3) = (5,5)
  double inv[36];
  if (!choleskyInverse(G, 6, inv)) return false;
  pk.ig11 = inv[7];
  pk.ig03 = inv[3];
  pk.ig33 = inv[21];
  pk.ig55 = inv[35];
  return true;
}

VMR_HOT void polyExp(const float* src, int width, int height, const PolyKernel& pk, float* dst, Scratch& sc) {
  // Planar rows (the three vertical sums, n pixels of replicated border each side) and the six
  // horizontal accumulators per pixel (double), so that each loop is elementwise over x and
  // vectorises; every accumulator still adds its taps in the order k = 1..n.
  const int n = pk.n;
  const float *g = pk.g(), *xg = pk.xg(), *xxg = pk.xxg();
  const size_t padded = size_t(width) + 2 * n;
  sc.v.resize(3 * padded);
  sc.b.resize(6 * size_t(width));
  float* V0 = sc.v.data() + n;
  float* V1 = V0 + padded;
  float* V2 = V1 + padded;
  double *B1 = sc.b.data(), *B2 = B1 + width, *B3 = B2 + width, *B4 = B3 + width, *B5 = B4 + width, *B6 = B5 + width;
  for (int y = 0; y < height; y++) {
    const float g0 = g[0];
    const float* s0 = src + size_t(y) * width;
    for (int x = 0; x < width; x++) {
      V0[x] = s0[x] * g0;
      V1[x] = 0.f;
      V2[x] = 0.f;
    }
    for (int k = 1; k <= n; k++) {
      const float gk = g[k], g1 = xg[k], g2 = xxg[k];
      const float* a = src + size_t(std::max(y - k, 0)) * width;
      const float* b = src + size_t(std::min(y + k, height - 1)) * width;
      for (int x = 0; x < width; x++) {
        const float p = a[x] + b[x];
        V0[x] = V0[x] + gk * p;
        V1[x] = V1[x] + g1 * (b[x] - a[x]);
        V2[x] = V2[x] + g2 * p;
      }
    }
    for (int i = 1; i <= n; i++) {
      V0[-i] = V0[0], V1[-i] = V1[0], V2[-i] = V2[0];
      V0[width - 1 + i] = V0[width - 1], V1[width - 1 + i] = V1[width - 1], V2[width - 1 + i] = V2[width - 1];
    }
    for (int x = 0; x < width; x++) {
      B1[x] = V0[x] * g0;
      B2[x] = 0;
      B3[x] = V1[x] * g0;
      B4[x] = 0;
      B5[x] = V2[x] * g0;
      B6[x] = 0;
    }
    for (int k = 1; k <= n; k++) {
      const float gk = g[k], xgk = xg[k], xxgk = xxg[k];
      const float* __restrict v0p = V0 + k;
      const float* __restrict v0m = V0 - k;
      const float* __restrict v1p = V1 + k;
      const float* __restrict v1m = V1 - k;
      const float* __restrict v2p = V2 + k;
      const float* __restrict v2m = V2 - k;
      double* __restrict b1 = B1;
      double* __restrict b2 = B2;
      double* __restrict b3 = B3;
      double* __restrict b4 = B4;
      double* __restrict b5 = B5;
      double* __restrict b6 = B6;
      int x = 0;
#if defined(__SSE2__)
      // four pixels per step: the float sums and products as 4 lanes, each widened to two 2-lane doubles
      const __m128 vg = _mm_set1_ps(gk), vxg = _mm_set1_ps(xgk);
      const __m128d dg = _mm_set1_pd(gk), dxxg = _mm_set1_pd(xxgk);
      auto lo = [](__m128 v) { return _mm_cvtps_pd(v); };
      auto hi = [](__m128 v) { return _mm_cvtps_pd(_mm_movehl_ps(v, v)); };
      auto acc = [](double* b, __m128d l, __m128d h) {
        _mm_storeu_pd(b, _mm_add_pd(_mm_loadu_pd(b), l));
        _mm_storeu_pd(b + 2, _mm_add_pd(_mm_loadu_pd(b + 2), h));
      };
      for (; x + 4 <= width; x += 4) {
        const __m128 a0 = _mm_loadu_ps(v0p + x), c0 = _mm_loadu_ps(v0m + x);
        const __m128 a1 = _mm_loadu_ps(v1p + x), c1 = _mm_loadu_ps(v1m + x);
        const __m128 a2 = _mm_loadu_ps(v2p + x), c2 = _mm_loadu_ps(v2m + x);
        const __m128 t = _mm_add_ps(a0, c0);
        const __m128d tl = lo(t), th = hi(t);
        acc(b1 + x, _mm_mul_pd(tl, dg), _mm_mul_pd(th, dg));
        acc(b4 + x, _mm_mul_pd(tl, dxxg), _mm_mul_pd(th, dxxg));
        const __m128 e2 = _mm_mul_ps(_mm_sub_ps(a0, c0), vxg);
        acc(b2 + x, lo(e2), hi(e2));
        const __m128 e3 = _mm_mul_ps(_mm_add_ps(a1, c1), vg);
        acc(b3 + x, lo(e3), hi(e3));
        const __m128 e6 = _mm_mul_ps(_mm_sub_ps(a1, c1), vxg);
        acc(b6 + x, lo(e6), hi(e6));
        const __m128 e5 = _mm_mul_ps(_mm_add_ps(a2, c2), vg);
        acc(b5 + x, lo(e5), hi(e5));
      }
#endif
      for (; x < width; x++) {
        const double tg = v0p[x] + v0m[x];
        b1[x] += tg * gk;
        b4[x] += tg * xxgk;
        b2[x] += (v0p[x] - v0m[x]) * xgk;
        b3[x] += (v1p[x] + v1m[x]) * gk;
        b6[x] += (v1p[x] - v1m[x]) * xgk;
        b5[x] += (v2p[x] + v2m[x]) * gk;
      }
    }
    float* d = dst + size_t(y) * width * 5;
    const double ig11 = pk.ig11, ig03 = pk.ig03, ig33 = pk.ig33, ig55 = pk.ig55;
    for (int x = 0; x < width; x++) {
      d[x * 5 + 1] = float(B2[x] * ig11);
      d[x * 5] = float(B3[x] * ig11);
      d[x * 5 + 3] = float(B1[x] * ig03 + B4[x] * ig33);
      d[x * 5 + 2] = float(B1[x] * ig03 + B5[x] * ig33);
      d[x * 5 + 4] = float(B6[x] * ig55);
    }
  }
}

// M (5 floats per pixel: G11, G12, G22, h1, h2) for rows [y0, y1) from the two expansions and the flow.
// Interior pixels whose displaced position falls inside the image take the SSE path: the bilinear
// sample of channels 0–3 as one 4-lane product sum in the same order as the scalar code (and the
// same single-precision operations), channel 4 in scalar — so both paths give the same bits.
static const int UM_BORDER = 5;
static const float UM_BORDER_W[UM_BORDER] = {0.14f, 0.14f, 0.4472f, 0.4472f, 0.4472f};

inline void umPixel(const float* r0, const float* R1, size_t step1, int width, int height, int x, int y, float dx, float dy, float* M) {
  float fx = x + dx, fy = y + dy;
  const int x1 = floorInt(fx), y1p = floorInt(fy);
  float r2, r3, r4, r5, r6;
  fx -= x1;
  fy -= y1p;
  if (unsigned(x1) < unsigned(width - 1) && unsigned(y1p) < unsigned(height - 1)) {
    const float* ptr = R1 + size_t(y1p) * step1 + size_t(x1) * 5;
    const float a00 = (1.f - fx) * (1.f - fy), a01 = fx * (1.f - fy), a10 = (1.f - fx) * fy, a11 = fx * fy;
    r2 = a00 * ptr[0] + a01 * ptr[5] + a10 * ptr[step1] + a11 * ptr[step1 + 5];
    r3 = a00 * ptr[1] + a01 * ptr[6] + a10 * ptr[step1 + 1] + a11 * ptr[step1 + 6];
    r4 = a00 * ptr[2] + a01 * ptr[7] + a10 * ptr[step1 + 2] + a11 * ptr[step1 + 7];
    r5 = a00 * ptr[3] + a01 * ptr[8] + a10 * ptr[step1 + 3] + a11 * ptr[step1 + 8];
    r6 = a00 * ptr[4] + a01 * ptr[9] + a10 * ptr[step1 + 4] + a11 * ptr[step1 + 9];
    r4 = (r0[2] + r4) * 0.5f;
    r5 = (r0[3] + r5) * 0.5f;
    r6 = (r0[4] + r6) * 0.25f;
  } else {
    r2 = r3 = 0.f;
    r4 = r0[2];
    r5 = r0[3];
    r6 = r0[4] * 0.5f;
  }
  r2 = (r0[0] - r2) * 0.5f;
  r3 = (r0[1] - r3) * 0.5f;
  r2 += r4 * dy + r6 * dx;
  r3 += r6 * dy + r5 * dx;
  if (unsigned(x - UM_BORDER) >= unsigned(width - UM_BORDER * 2) || unsigned(y - UM_BORDER) >= unsigned(height - UM_BORDER * 2)) {
    const float scale = (x < UM_BORDER ? UM_BORDER_W[x] : 1.f) * (x >= width - UM_BORDER ? UM_BORDER_W[width - x - 1] : 1.f) *
                        (y < UM_BORDER ? UM_BORDER_W[y] : 1.f) * (y >= height - UM_BORDER ? UM_BORDER_W[height - y - 1] : 1.f);
    r2 *= scale;
    r3 *= scale;
    r4 *= scale;
    r5 *= scale;
    r6 *= scale;
  }
  M[0] = r4 * r4 + r6 * r6;
  M[1] = (r4 + r5) * r6;
  M[2] = r5 * r5 + r6 * r6;
  M[3] = r4 * r2 + r6 * r3;
  M[4] = r6 * r2 + r5 * r3;
}

#if defined(__SSE2__)
// Four pixels x..x+3 of row y at once, one pixel per lane, with umPixel's operations in its order:
// lanes whose displaced position leaves the image take umPixel's other branch by a blend (their loads
// are clamped inside the image and discarded), and the border weight multiplies every lane (1 inside
// the border, which leaves a float unchanged).
inline __m128 blend(__m128 mask, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b)); }

inline void umQuad(const float* r0, const float* R1, size_t step1, int width, int height, int x, int y, const float* flow, float* M) {
  const __m128 f01 = _mm_loadu_ps(flow), f23 = _mm_loadu_ps(flow + 4);
  const __m128 dx = _mm_shuffle_ps(f01, f23, _MM_SHUFFLE(2, 0, 2, 0));
  const __m128 dy = _mm_shuffle_ps(f01, f23, _MM_SHUFFLE(3, 1, 3, 1));
  __m128 fx = _mm_add_ps(_mm_set_ps(float(x + 3), float(x + 2), float(x + 1), float(x)), dx);
  __m128 fy = _mm_add_ps(_mm_set1_ps(float(y)), dy);
  // cvFloor: truncate, then one less where the truncation is above the value
  __m128i ix = _mm_cvttps_epi32(fx), iy = _mm_cvttps_epi32(fy);
  ix = _mm_add_epi32(ix, _mm_castps_si128(_mm_cmpgt_ps(_mm_cvtepi32_ps(ix), fx)));
  iy = _mm_add_epi32(iy, _mm_castps_si128(_mm_cmpgt_ps(_mm_cvtepi32_ps(iy), fy)));
  const __m128 inside = _mm_castsi128_ps(_mm_and_si128(_mm_and_si128(_mm_cmpgt_epi32(ix, _mm_set1_epi32(-1)), _mm_cmplt_epi32(ix, _mm_set1_epi32(width - 1))),
                                                       _mm_and_si128(_mm_cmpgt_epi32(iy, _mm_set1_epi32(-1)), _mm_cmplt_epi32(iy, _mm_set1_epi32(height - 1)))));
  fx = _mm_sub_ps(fx, _mm_cvtepi32_ps(ix));
  fy = _mm_sub_ps(fy, _mm_cvtepi32_ps(iy));
  const __m128 one = _mm_set1_ps(1.f);
  const __m128 a00 = _mm_mul_ps(_mm_sub_ps(one, fx), _mm_sub_ps(one, fy)), a01 = _mm_mul_ps(fx, _mm_sub_ps(one, fy));
  const __m128 a10 = _mm_mul_ps(_mm_sub_ps(one, fx), fy), a11 = _mm_mul_ps(fx, fy);
  alignas(16) int xi[4], yi[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(xi), ix);
  _mm_store_si128(reinterpret_cast<__m128i*>(yi), iy);
  const float* p[4];
  for (int i = 0; i < 4; i++) {
    const int cx = xi[i] < 0 ? 0 : xi[i] > width - 2 ? width - 2 : xi[i];
    const int cy = yi[i] < 0 ? 0 : yi[i] > height - 2 ? height - 2 : yi[i];
    p[i] = R1 + size_t(cy) * step1 + size_t(cx) * 5;
  }
  __m128 A0 = _mm_loadu_ps(p[0]), A1 = _mm_loadu_ps(p[1]), A2 = _mm_loadu_ps(p[2]), A3 = _mm_loadu_ps(p[3]);
  __m128 B0 = _mm_loadu_ps(p[0] + 5), B1 = _mm_loadu_ps(p[1] + 5), B2 = _mm_loadu_ps(p[2] + 5), B3 = _mm_loadu_ps(p[3] + 5);
  __m128 C0 = _mm_loadu_ps(p[0] + step1), C1 = _mm_loadu_ps(p[1] + step1), C2 = _mm_loadu_ps(p[2] + step1), C3 = _mm_loadu_ps(p[3] + step1);
  __m128 D0 = _mm_loadu_ps(p[0] + step1 + 5), D1 = _mm_loadu_ps(p[1] + step1 + 5), D2 = _mm_loadu_ps(p[2] + step1 + 5), D3 = _mm_loadu_ps(p[3] + step1 + 5);
  _MM_TRANSPOSE4_PS(A0, A1, A2, A3);  // now A<c> = channel c of the four pixels
  _MM_TRANSPOSE4_PS(B0, B1, B2, B3);
  _MM_TRANSPOSE4_PS(C0, C1, C2, C3);
  _MM_TRANSPOSE4_PS(D0, D1, D2, D3);
  const __m128 A4 = _mm_set_ps(p[3][4], p[2][4], p[1][4], p[0][4]), B4 = _mm_set_ps(p[3][9], p[2][9], p[1][9], p[0][9]);
  const __m128 C4 = _mm_set_ps(p[3][step1 + 4], p[2][step1 + 4], p[1][step1 + 4], p[0][step1 + 4]);
  const __m128 D4 = _mm_set_ps(p[3][step1 + 9], p[2][step1 + 9], p[1][step1 + 9], p[0][step1 + 9]);
  auto bil = [&](__m128 a, __m128 b, __m128 c, __m128 d) {
    return _mm_add_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(a00, a), _mm_mul_ps(a01, b)), _mm_mul_ps(a10, c)), _mm_mul_ps(a11, d));
  };
  const __m128 zero = _mm_setzero_ps();
  auto ch = [&](int c) { return _mm_set_ps(r0[15 + c], r0[10 + c], r0[5 + c], r0[c]); };
  const __m128 half = _mm_set1_ps(0.5f);
  const __m128 R02 = ch(2), R03 = ch(3), R04 = ch(4);
  __m128 r2 = blend(inside, bil(A0, B0, C0, D0), zero), r3 = blend(inside, bil(A1, B1, C1, D1), zero);
  __m128 r4 = blend(inside, _mm_mul_ps(_mm_add_ps(R02, bil(A2, B2, C2, D2)), half), R02);
  __m128 r5 = blend(inside, _mm_mul_ps(_mm_add_ps(R03, bil(A3, B3, C3, D3)), half), R03);
  __m128 r6 = blend(inside, _mm_mul_ps(_mm_add_ps(R04, bil(A4, B4, C4, D4)), _mm_set1_ps(0.25f)), _mm_mul_ps(R04, half));
  r2 = _mm_mul_ps(_mm_sub_ps(ch(0), r2), half);
  r3 = _mm_mul_ps(_mm_sub_ps(ch(1), r3), half);
  r2 = _mm_add_ps(r2, _mm_add_ps(_mm_mul_ps(r4, dy), _mm_mul_ps(r6, dx)));
  r3 = _mm_add_ps(r3, _mm_add_ps(_mm_mul_ps(r6, dy), _mm_mul_ps(r5, dx)));
  const bool rowBorder = y < UM_BORDER || y >= height - UM_BORDER;
  if (rowBorder || x < UM_BORDER || x + 3 >= width - UM_BORDER) {
    alignas(16) float sc[4];
    for (int i = 0; i < 4; i++) {
      const int xx = x + i;
      sc[i] = (xx < UM_BORDER ? UM_BORDER_W[xx] : 1.f) * (xx >= width - UM_BORDER ? UM_BORDER_W[width - xx - 1] : 1.f) *
              (y < UM_BORDER ? UM_BORDER_W[y] : 1.f) * (y >= height - UM_BORDER ? UM_BORDER_W[height - y - 1] : 1.f);
    }
    const __m128 scale = _mm_load_ps(sc);
    r2 = _mm_mul_ps(r2, scale);
    r3 = _mm_mul_ps(r3, scale);
    r4 = _mm_mul_ps(r4, scale);
    r5 = _mm_mul_ps(r5, scale);
    r6 = _mm_mul_ps(r6, scale);
  }
  __m128 m0 = _mm_add_ps(_mm_mul_ps(r4, r4), _mm_mul_ps(r6, r6));
  __m128 m1 = _mm_mul_ps(_mm_add_ps(r4, r5), r6);
  __m128 m2 = _mm_add_ps(_mm_mul_ps(r5, r5), _mm_mul_ps(r6, r6));
  __m128 m3 = _mm_add_ps(_mm_mul_ps(r4, r2), _mm_mul_ps(r6, r3));
  const __m128 m4 = _mm_add_ps(_mm_mul_ps(r6, r2), _mm_mul_ps(r5, r3));
  _MM_TRANSPOSE4_PS(m0, m1, m2, m3);  // now m<i> = channels 0–3 of pixel i
  alignas(16) float t4[4];
  _mm_store_ps(t4, m4);
  _mm_storeu_ps(M, m0);
  M[4] = t4[0];
  _mm_storeu_ps(M + 5, m1);
  M[9] = t4[1];
  _mm_storeu_ps(M + 10, m2);
  M[14] = t4[2];
  _mm_storeu_ps(M + 15, m3);
  M[19] = t4[3];
}
#endif

VMR_HOT void updateMatrices(const float* R0, const float* R1, const float* flowp, float* Mp, int width, int height, int y0, int y1) {
  const size_t step1 = size_t(width) * 5;
  for (int y = y0; y < y1; y++) {
    const float* flow = flowp + size_t(y) * width * 2;
    const float* r0row = R0 + size_t(y) * step1;
    float* Mrow = Mp + size_t(y) * step1;
    int x = 0;
#if defined(__SSE2__)
    if (width >= 2 && height >= 2)
      for (; x + 4 <= width; x += 4) umQuad(r0row + x * 5, R1, step1, width, height, x, y, flow + x * 2, Mrow + x * 5);
#endif
    for (; x < width; x++) umPixel(r0row + x * 5, R1, step1, width, height, x, y, flow[x * 2], flow[x * 2 + 1], Mrow + x * 5);
  }
}

// One flow update: box-blur M over block_size² (running sums in double, replicated borders), solve the
// 2×2 system per pixel; then, unless it is the last iteration, recompute M from the new flow, row by
// row behind the blur (a row is rewritten only once the blur has read it for the last time, so the
// matrices are those of one pass after it, as with OpenCV's stripes). The horizontal running sums are kept per pixel so that
// the solve runs as a separate, vectorisable loop; each sum still adds in the same order.
VMR_HOT void updateFlowBlur(const float* R0, const float* R1, float* flowp, float* Mp, int width, int height, int blockSize, bool updateM, Scratch& sc) {
  const int m = blockSize / 2;
  const double scale = 1. / (blockSize * blockSize);
  sc.b.assign(size_t(width + m * 2 + 2) * 5, 0.);
  sc.s.resize(size_t(width) * 5);
  double* vsum = sc.b.data() + (m + 1) * 5;
  double *S11 = sc.s.data(), *S12 = S11 + width, *S22 = S12 + width, *SH1 = S22 + width, *SH2 = SH1 + width;
  const float* srow0 = Mp;
  const float mp2 = float(m + 2);
  for (int x = 0; x < width * 5; x++) vsum[x] = srow0[x] * mp2;
  for (int y = 1; y < m; y++) {
    srow0 = Mp + size_t(std::min(y, height - 1)) * width * 5;
    for (int x = 0; x < width * 5; x++) vsum[x] += srow0[x];
  }
  for (int y = 0; y < height; y++) {
    float* flow = flowp + size_t(y) * width * 2;
    srow0 = Mp + size_t(std::max(y - m - 1, 0)) * width * 5;
    const float* srow1 = Mp + size_t(std::min(y + m, height - 1)) * width * 5;
    for (int x = 0; x < width * 5; x++) vsum[x] += srow1[x] - srow0[x];
    for (int x = 0; x < (m + 1) * 5; x++) {
      vsum[-1 - x] = vsum[4 - x];
      vsum[width * 5 + x] = vsum[width * 5 + x - 5];
    }
    double g11 = vsum[0] * (m + 2), g12 = vsum[1] * (m + 2), g22 = vsum[2] * (m + 2), h1 = vsum[3] * (m + 2), h2 = vsum[4] * (m + 2);
    for (int x = 1; x < m; x++) {
      g11 += vsum[x * 5];
      g12 += vsum[x * 5 + 1];
      g22 += vsum[x * 5 + 2];
      h1 += vsum[x * 5 + 3];
      h2 += vsum[x * 5 + 4];
    }
    for (int x = 0; x < width; x++) {
      const double* a = vsum + (x + m) * 5;
      const double* b = vsum + (x - m) * 5 - 5;
      S11[x] = g11 += a[0] - b[0];
      S12[x] = g12 += a[1] - b[1];
      S22[x] = g22 += a[2] - b[2];
      SH1[x] = h1 += a[3] - b[3];
      SH2[x] = h2 += a[4] - b[4];
    }
    for (int x = 0; x < width; x++) {
      const double g11_ = S11[x] * scale, g12_ = S12[x] * scale, g22_ = S22[x] * scale, h1_ = SH1[x] * scale, h2_ = SH2[x] * scale;
      const double idet = 1. / (g11_ * g22_ - g12_ * g12_ + 1e-3);
      flow[x * 2] = float((g11_ * h2_ - g12_ * h1_) * idet);
      flow[x * 2 + 1] = float((g22_ * h1_ - g12_ * h2_) * idet);
    }
    // M's row y − m − 1 was read for the last time above (the running sum subtracts it), and its flow
    // row is final: rewrite it now, while it is in cache (OpenCV does the same in stripes).
    if (updateM && y - m - 1 >= 0) updateMatrices(R0, R1, flowp, Mp, width, height, y - m - 1, y - m);
  }
  if (updateM) updateMatrices(R0, R1, flowp, Mp, width, height, std::max(0, height - m - 1), height);
}

struct LevelGeom {
  int width, height, smooth;
  double sigma;
};

struct Expansion {
  int W = 0, H = 0;
  std::vector<uint8_t> bytes;
  std::vector<std::vector<float>> R;  // per level k, height_k × width_k × 5
  bool valid = false;
};

struct Flow {
  Params p;
  PolyKernel pk;
  Expansion cache, next;
  std::vector<float> fimg, blurred, tmp, pad, I, hbuf, flowA, flowB, M;
  Scratch sc;
  long reused = 0, expanded = 0;

  std::vector<LevelGeom> geometry(int W, int H) const {
    const int minSize = 32;
    int levels = 0;
    double scale = 1;
    for (levels = 0; levels < p.levels; levels++) {
      scale *= p.pyrScale;
      if (W * scale < minSize || H * scale < minSize) break;
    }
    std::vector<LevelGeom> g(levels + 1);
    for (int k = 0; k <= levels; k++) {
      double s = 1;
      for (int i = 0; i < k; i++) s *= p.pyrScale;
      const double sigma = (1. / s - 1) * 0.5;
      int smooth = roundHalfEven(sigma * 5) | 1;
      smooth = std::max(smooth, 3);
      g[k] = {roundHalfEven(W * s), roundHalfEven(H * s), smooth, sigma};
    }
    return g;
  }

  void expand(const uint8_t* img, int W, int H, const std::vector<LevelGeom>& geo, Expansion& out) {
    out.W = W;
    out.H = H;
    out.bytes.assign(img, img + size_t(W) * H);
    out.R.resize(geo.size());
    fimg.resize(size_t(W) * H);
    blurred.resize(size_t(W) * H);
    for (size_t i = 0; i < fimg.size(); i++) fimg[i] = float(img[i]);
    for (size_t k = 0; k < geo.size(); k++) {
      const LevelGeom& L = geo[k];
      gaussianBlur(fimg.data(), blurred.data(), W, H, L.smooth, L.sigma, tmp, pad);
      I.resize(size_t(L.width) * L.height);
      resizeLinear(blurred.data(), W, H, 1, I.data(), L.width, L.height, hbuf);
      out.R[k].resize(size_t(L.width) * L.height * 5);
      polyExp(I.data(), L.width, L.height, pk, out.R[k].data(), sc);
    }
    out.valid = true;
    expanded++;
  }

  // Returns 1 when prev's expansion came from the cache.
  int compute(const uint8_t* prev, const uint8_t* nextImg, int W, int H, float* out) {
    const std::vector<LevelGeom> geo = geometry(W, H);
    int hit = 0;
    if (cache.valid && cache.W == W && cache.H == H && std::memcmp(cache.bytes.data(), prev, size_t(W) * H) == 0) {
      hit = 1;
      reused++;
    } else {
      expand(prev, W, H, geo, cache);
    }
    expand(nextImg, W, H, geo, next);
    std::vector<float>* prevFlow = nullptr;
    int pw = 0, ph = 0;
    for (int k = int(geo.size()) - 1; k >= 0; k--) {
      const LevelGeom& L = geo[k];
      std::vector<float>& flow = (prevFlow == &flowA) ? flowB : flowA;
      flow.resize(size_t(L.width) * L.height * 2);
      if (!prevFlow) {
        std::fill(flow.begin(), flow.end(), 0.f);
      } else {
        resizeLinear(prevFlow->data(), pw, ph, 2, flow.data(), L.width, L.height, hbuf);
        // flow *= 1/pyrScale: Mat::convertTo with the scale as a float (src·a + b, b = 0)
        const float f = float(1. / p.pyrScale);
        for (float& v : flow) v = v * f + 0.f;
      }
      const float* R0 = cache.R[k].data();
      const float* R1 = next.R[k].data();
      M.resize(size_t(L.width) * L.height * 5);
      updateMatrices(R0, R1, flow.data(), M.data(), L.width, L.height, 0, L.height);
      for (int i = 0; i < p.iterations; i++) updateFlowBlur(R0, R1, flow.data(), M.data(), L.width, L.height, p.winsize, i < p.iterations - 1, sc);
      prevFlow = &flow;
      pw = L.width;
      ph = L.height;
    }
    std::memcpy(out, prevFlow->data(), sizeof(float) * size_t(W) * H * 2);
    std::swap(cache, next);  // next's expansion is the next pair's prev
    return hit;
  }
};

// What a JS handle holds: the context until release() (dispose) frees it, or the garbage collector does.
struct Handle {
  Flow* flow = nullptr;
};

void finalizeFlow(napi_env, void* data, void*) {
  Handle* h = static_cast<Handle*>(data);
  delete h->flow;
  delete h;
}

// The context behind argv[0], or nullptr (an Error thrown) when it was released.
Flow* flowOf(napi_env env, napi_value v) {
  void* h = nullptr;
  if (napi_get_value_external(env, v, &h) != napi_ok || !h) {
    napi_throw_type_error(env, nullptr, "vmr_features: not a flow handle");
    return nullptr;
  }
  Flow* f = static_cast<Handle*>(h)->flow;
  if (!f) napi_throw_error(env, nullptr, "vmr_features: flow handle used after release()");
  return f;
}

// create(params: Float64Array [pyrScale, levels, winsize, iterations, polyN, polySigma]) → handle
napi_value Create(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!vmrArgs(env, info, 1, argv, "vmr_features.create(params) needs 1 argument")) return nullptr;
  void* data = vmrTypedArray(env, argv[0], napi_float64_array, 6);
  if (!data) {
    napi_throw_type_error(env, nullptr, "vmr_features.create(params): params must be a Float64Array of 6");
    return nullptr;
  }
  const double* q = static_cast<const double*>(data);
  Flow* f = new Flow();
  f->p.pyrScale = q[0];
  f->p.levels = int(q[1]);
  f->p.winsize = int(q[2]);
  f->p.iterations = int(q[3]);
  f->p.polyN = int(q[4]);
  f->p.polySigma = q[5];
  if (!(f->p.pyrScale > 0 && f->p.pyrScale < 1) || f->p.levels < 0 || f->p.winsize < 1 || f->p.iterations < 1 || (f->p.polyN != 5 && f->p.polyN != 7) ||
      !preparePolyKernel(f->pk, f->p.polyN, f->p.polySigma)) {
    delete f;
    napi_throw_range_error(env, nullptr, "vmr_features.create: unsupported Farneback parameters (need 0 < pyrScale < 1, levels >= 0, winsize >= 1, iterations >= 1, polyN 5 or 7)");
    return nullptr;
  }
  napi_value ext;
  Handle* handle = new Handle{f};
  if (napi_create_external(env, handle, finalizeFlow, nullptr, &ext) != napi_ok) {
    delete f;
    delete handle;
    napi_throw_error(env, nullptr, "vmr_features.create: napi_create_external failed");
    return nullptr;
  }
  return ext;
}

// flow(handle, prev: Uint8Array, next: Uint8Array, width, height, out: Float32Array) → 1 when prev's expansion was reused
napi_value Compute(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!vmrArgs(env, info, 6, argv, "vmr_features.flow(handle, prev, next, width, height, out) needs 6 arguments")) return nullptr;
  Flow* f = flowOf(env, argv[0]);
  if (!f) return nullptr;
  int32_t W = 0, H = 0;
  CHECK(napi_get_value_int32(env, argv[3], &W));
  CHECK(napi_get_value_int32(env, argv[4], &H));
  void* ptrs[3] = {vmrTypedArray(env, argv[1], napi_uint8_array, size_t(W) * H), vmrTypedArray(env, argv[2], napi_uint8_array, size_t(W) * H),
                   vmrTypedArray(env, argv[5], napi_float32_array, size_t(W) * H * 2)};
  if (!ptrs[0] || !ptrs[1] || !ptrs[2]) {
    napi_throw_type_error(env, nullptr, "vmr_features.flow: prev/next must be Uint8Array(width*height), out Float32Array(width*height*2)");
    return nullptr;
  }
  if (W < 2 || H < 2) {
    napi_throw_range_error(env, nullptr, "vmr_features.flow: frames must be at least 2x2");
    return nullptr;
  }
  const int hit = f->compute(static_cast<uint8_t*>(ptrs[0]), static_cast<uint8_t*>(ptrs[1]), W, H, static_cast<float*>(ptrs[2]));
  napi_value r;
  CHECK(napi_create_int32(env, hit, &r));
  return r;
}

// stats(handle) → { expanded, reused }: frames expanded, and pairs whose first frame came from the cache.
napi_value Stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!vmrArgs(env, info, 1, argv, "vmr_features.stats(handle) needs 1 argument")) return nullptr;
  Flow* f = flowOf(env, argv[0]);
  if (!f) return nullptr;
  napi_value obj, a, b;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_double(env, double(f->expanded), &a));
  CHECK(napi_create_double(env, double(f->reused), &b));
  CHECK(napi_set_named_property(env, obj, "expanded", a));
  CHECK(napi_set_named_property(env, obj, "reused", b));
  return obj;
}

// release(handle): frees the context now (its buffers hold ~10 MB at 320×240); later calls throw.
napi_value Release(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!vmrArgs(env, info, 1, argv, "vmr_features.release(handle) needs 1 argument")) return nullptr;
  void* h = nullptr;
  if (napi_get_value_external(env, argv[0], &h) != napi_ok || !h) {
    napi_throw_type_error(env, nullptr, "vmr_features.release: not a flow handle");
    return nullptr;
  }
  Handle* handle = static_cast<Handle*>(h);
  delete handle->flow;
  handle->flow = nullptr;
  return nullptr;
}

}  // namespace

// Adds create / flow / stats / release to the addon's exports (addon.cc).
napi_value registerFlow(napi_env env, napi_value exports) {
  if (!vmrExport(env, exports, "create", Create) || !vmrExport(env, exports, "flow", Compute) || !vmrExport(env, exports, "stats", Stats) ||
      !vmrExport(env, exports, "release", Release))
    return nullptr;
  return exports;
}

