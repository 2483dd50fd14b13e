// VMR Lab native SGEMM for the tfjs wasm backend (optional; built by libs/core/native/build.js).
//
// C[b] = act(op(A[b]) · op(B[b]) + bias) computed IN PLACE on the wasm heap (the backend's
// WebAssembly.Memory ArrayBuffer): operands are byte offsets into that buffer, so nothing is copied in
// or out. Transposes are strides of the packing routines (no transposed copies). Batch broadcast: a
// batch stride of 0 reuses one matrix for every batch.
//
// Cache-blocked (BLIS-style) with a 6×16 AVX2/FMA micro-kernel; compiled for any x86-64 and enabled
// at run time only where the CPU has AVX2 and FMA (`info().isa`), else the JS side keeps XNNPACK.
//
// Deterministic: every output element is accumulated by the same sequence of FMAs (k in KC blocks, in
// order; edge tiles use the same vector kernel on zero-padded panels) whatever the thread count and
// partition, so results are bit-identical with 1 or 2 threads.
#define VMR_ADDON_NAME "vmr_gemm"
#include "vmr_napi.h"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr long MR = 6;
constexpr long NR_SPLIT = 32;  // column split alignment (a multiple of both kernels' widths)
constexpr long KC = 256;
constexpr long MC = 96;   // multiple of MR: A block 96×256 floats = 96 KiB (L2)
constexpr long NC = 1024; // multiple of NR: B block 256×1024 floats = 1 MiB

struct Mat {
  const float* p;
  long rs;  // stride between rows (elements)
  long cs;  // stride between columns
  float at(long i, long j) const { return p[i * rs + j * cs]; }
};

struct Problem {
  Mat a;      // M×K view
  Mat b;      // K×N view
  float* c;   // M×N, row stride ldc
  long ldc;
  long m, n, k;
  const float* bias = nullptr;  // [n], added after the last K block (with the activation)
  int act = 0;
  float alpha = 0.f;
};

float* aligned_buffer(std::vector<float>& v, size_t n) {
  if (v.size() < n + 16) v.resize(n + 16);
  uintptr_t p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

// A block rows [i0, i0+mc) × cols [k0, k0+kc) into MR-row panels, k-major inside a panel.
void pack_a(const Mat& A, long i0, long mc, long k0, long kc, float* out) {
  for (long ip = 0; ip < mc; ip += MR) {
    const long mr = std::min(MR, mc - ip);
    if (A.rs == 1 && mr == MR) {  // transposed A: the MR rows of one k are contiguous
      for (long k = 0; k < kc; k++) {
        std::memcpy(out, A.p + (k0 + k) * A.cs + (i0 + ip), MR * sizeof(float));
        out += MR;
      }
      continue;
    }
    for (long k = 0; k < kc; k++) {
      const float* src = A.p + (k0 + k) * A.cs + (i0 + ip) * A.rs;
      long r = 0;
      for (; r < mr; r++) out[r] = src[r * A.rs];
      for (; r < MR; r++) out[r] = 0.f;
      out += MR;
    }
  }
}

// B block rows [k0, k0+kc) × cols [j0, j0+nc) into NR-column panels, k-major inside a panel.
template <long NR>
void pack_b(const Mat& B, long k0, long kc, long j0, long nc, float* out) {
  for (long jp = 0; jp < nc; jp += NR) {
    const long nr = std::min(NR, nc - jp);
    if (B.cs == 1) {
      for (long k = 0; k < kc; k++) {
        const float* src = B.p + (k0 + k) * B.rs + (j0 + jp);
        std::memcpy(out, src, nr * sizeof(float));
        for (long c = nr; c < NR; c++) out[c] = 0.f;
        out += NR;
      }
    } else {  // transposed B: gather by columns (each column contiguous in k)
      for (long c = 0; c < NR; c++) {
        if (c < nr) {
          const float* src = B.p + (j0 + jp + c) * B.cs + k0 * B.rs;
          for (long k = 0; k < kc; k++) out[k * NR + c] = src[k * B.rs];
        } else {
          for (long k = 0; k < kc; k++) out[k * NR + c] = 0.f;
        }
      }
      out += kc * NR;
    }
  }
}

// A element (r, k) of the 6-row sliver is ap[r * ars + k * aks]: a packed panel (ars 1, aks MR) or,
// for row-major A, the matrix itself (ars = row stride, aks 1; rows past the edge repeat the last row).
// B element (k, j) of the 16-column sliver is bp[k * brs + j]: a packed panel (brs NR) or, for
// row-major B when M is small (packing would cost as much as the product), the matrix itself.
template <bool Packed, long NR = 16>
__attribute__((target("avx2,fma"))) inline void kernel_6x16(long kc, const float* __restrict ap, long ars, const float* __restrict bp,
                                                             long brs, float* c, long ldc, long mr, long nr, bool accumulate) {
  const float* a0 = ap;
  const float* a1 = ap + (Packed ? 1 : std::min(1L, mr - 1) * ars);
  const float* a2 = ap + (Packed ? 2 : std::min(2L, mr - 1) * ars);
  const float* a3 = ap + (Packed ? 3 : std::min(3L, mr - 1) * ars);
  const float* a4 = ap + (Packed ? 4 : std::min(4L, mr - 1) * ars);
  const float* a5 = ap + (Packed ? 5 : std::min(5L, mr - 1) * ars);
  constexpr long aks = Packed ? MR : 1;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(bp);
    const __m256 b1 = _mm256_loadu_ps(bp + 8);
    __m256 a;
    const long o = k * aks;
    a = _mm256_broadcast_ss(a0 + o); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(a1 + o); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(a2 + o); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(a3 + o); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(a4 + o); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(a5 + o); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    bp += brs;
  }
  alignas(32) float tmp[MR * NR];
  const bool full = mr == MR && nr == NR;
  float* dst = full ? c : tmp;
  const long ld = full ? ldc : NR;
  if (full && accumulate) {
#define VMR_ACC(r, lo, hi)                                                         \
  _mm256_storeu_ps(c + r * ldc, _mm256_add_ps(_mm256_loadu_ps(c + r * ldc), lo)); \
  _mm256_storeu_ps(c + r * ldc + 8, _mm256_add_ps(_mm256_loadu_ps(c + r * ldc + 8), hi));
    VMR_ACC(0, c00, c01) VMR_ACC(1, c10, c11) VMR_ACC(2, c20, c21) VMR_ACC(3, c30, c31) VMR_ACC(4, c40, c41) VMR_ACC(5, c50, c51)
#undef VMR_ACC
    return;
  }
  _mm256_storeu_ps(dst + 0 * ld, c00); _mm256_storeu_ps(dst + 0 * ld + 8, c01);
  _mm256_storeu_ps(dst + 1 * ld, c10); _mm256_storeu_ps(dst + 1 * ld + 8, c11);
  _mm256_storeu_ps(dst + 2 * ld, c20); _mm256_storeu_ps(dst + 2 * ld + 8, c21);
  _mm256_storeu_ps(dst + 3 * ld, c30); _mm256_storeu_ps(dst + 3 * ld + 8, c31);
  _mm256_storeu_ps(dst + 4 * ld, c40); _mm256_storeu_ps(dst + 4 * ld + 8, c41);
  _mm256_storeu_ps(dst + 5 * ld, c50); _mm256_storeu_ps(dst + 5 * ld + 8, c51);
  if (full) return;
  for (long r = 0; r < mr; r++)
    for (long j = 0; j < nr; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tmp[r * NR + j] : tmp[r * NR + j];
}

// The same micro-kernel 16 floats wide (AVX-512F): a 6×32 tile per call. Every output still gets the
// same chain of FMAs over k, so results are bit-identical to the AVX2 kernel.
template <bool Packed, long NR = 32>
__attribute__((target("avx512f"))) inline void kernel_6x32(long kc, const float* __restrict ap, long ars, const float* __restrict bp,
                                                            long brs, float* c, long ldc, long mr, long nr, bool accumulate) {
  const float* a0 = ap;
  const float* a1 = ap + (Packed ? 1 : std::min(1L, mr - 1) * ars);
  const float* a2 = ap + (Packed ? 2 : std::min(2L, mr - 1) * ars);
  const float* a3 = ap + (Packed ? 3 : std::min(3L, mr - 1) * ars);
  const float* a4 = ap + (Packed ? 4 : std::min(4L, mr - 1) * ars);
  const float* a5 = ap + (Packed ? 5 : std::min(5L, mr - 1) * ars);
  constexpr long aks = Packed ? MR : 1;
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  for (long k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(bp);
    const __m512 b1 = _mm512_loadu_ps(bp + 16);
    const long o = k * aks;
    __m512 a;
    a = _mm512_set1_ps(a0[o]); c00 = _mm512_fmadd_ps(a, b0, c00); c01 = _mm512_fmadd_ps(a, b1, c01);
    a = _mm512_set1_ps(a1[o]); c10 = _mm512_fmadd_ps(a, b0, c10); c11 = _mm512_fmadd_ps(a, b1, c11);
    a = _mm512_set1_ps(a2[o]); c20 = _mm512_fmadd_ps(a, b0, c20); c21 = _mm512_fmadd_ps(a, b1, c21);
    a = _mm512_set1_ps(a3[o]); c30 = _mm512_fmadd_ps(a, b0, c30); c31 = _mm512_fmadd_ps(a, b1, c31);
    a = _mm512_set1_ps(a4[o]); c40 = _mm512_fmadd_ps(a, b0, c40); c41 = _mm512_fmadd_ps(a, b1, c41);
    a = _mm512_set1_ps(a5[o]); c50 = _mm512_fmadd_ps(a, b0, c50); c51 = _mm512_fmadd_ps(a, b1, c51);
    bp += brs;
  }
  alignas(64) float tmp[MR * NR];
  const bool full = mr == MR && nr == NR;
  if (full && accumulate) {
#define VMR_ACC(r, lo, hi)                                                         \
  _mm512_storeu_ps(c + r * ldc, _mm512_add_ps(_mm512_loadu_ps(c + r * ldc), lo)); \
  _mm512_storeu_ps(c + r * ldc + 16, _mm512_add_ps(_mm512_loadu_ps(c + r * ldc + 16), hi));
    VMR_ACC(0, c00, c01) VMR_ACC(1, c10, c11) VMR_ACC(2, c20, c21) VMR_ACC(3, c30, c31) VMR_ACC(4, c40, c41) VMR_ACC(5, c50, c51)
#undef VMR_ACC
    return;
  }
  float* dst = full ? c : tmp;
  const long ld = full ? ldc : NR;
  _mm512_storeu_ps(dst + 0 * ld, c00); _mm512_storeu_ps(dst + 0 * ld + 16, c01);
  _mm512_storeu_ps(dst + 1 * ld, c10); _mm512_storeu_ps(dst + 1 * ld + 16, c11);
  _mm512_storeu_ps(dst + 2 * ld, c20); _mm512_storeu_ps(dst + 2 * ld + 16, c21);
  _mm512_storeu_ps(dst + 3 * ld, c30); _mm512_storeu_ps(dst + 3 * ld + 16, c31);
  _mm512_storeu_ps(dst + 4 * ld, c40); _mm512_storeu_ps(dst + 4 * ld + 16, c41);
  _mm512_storeu_ps(dst + 5 * ld, c50); _mm512_storeu_ps(dst + 5 * ld + 16, c51);
  if (full) return;
  for (long r = 0; r < mr; r++)
    for (long j = 0; j < nr; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tmp[r * NR + j] : tmp[r * NR + j];
}

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kSigmoid = 4, kElu = 5 };

// act(c + bias) over an m×n block; vector code for the common cases (bias, relu), scalar otherwise.
__attribute__((target("avx2,fma"))) void epilogue(float* c, long ldc, long m, long n, const float* bias, int act, float alpha) {
  if (!bias && act == kLinear) return;
  if (act == kLinear || act == kRelu) {
    const long n8 = n & ~7L;
    const __m256 zero = _mm256_setzero_ps();
    for (long i = 0; i < m; i++) {
      float* row = c + i * ldc;
      for (long j = 0; j < n8; j += 8) {
        __m256 v = _mm256_loadu_ps(row + j);
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
        if (act == kRelu) v = _mm256_max_ps(v, zero);
        _mm256_storeu_ps(row + j, v);
      }
      for (long j = n8; j < n; j++) {
        float v = row[j] + (bias ? bias[j] : 0.f);
        row[j] = act == kRelu ? (v > 0.f ? v : 0.f) : v;
      }
    }
    return;
  }
  for (long i = 0; i < m; i++) {
    float* row = c + i * ldc;
    for (long j = 0; j < n; j++) {
      float v = row[j] + (bias ? bias[j] : 0.f);
      switch (act) {
        case kRelu: v = v > 0.f ? v : 0.f; break;
        case kRelu6: v = std::min(std::max(v, 0.f), 6.f); break;
        case kLeakyRelu: v = v < 0.f ? alpha * v : v; break;
        case kSigmoid: v = 1.f / (1.f + std::exp(-v)); break;
        case kElu: v = v < 0.f ? std::expm1(v) : v; break;
        default: break;
      }
      row[j] = v;
    }
  }
}

// One output row (M = 1: bias gradients as ones·dY, pooling): c = a · B, memory-bound, no packing.
// Each c[j] is one FMA chain over k in order (vector lane or scalar: the same fused operations).
__attribute__((target("avx2,fma"))) void gemv_row(const Problem& P) {
  const float* a = P.a.p;
  const long as = P.a.cs;
  const long n = P.n, k = P.k;
  if (P.b.cs == 1) {
    // B streamed row by row with the running sums in c (one row of C fits L1; float32 either way:
    // the same chain of FMAs per column)
    std::fill(P.c, P.c + n, 0.f);
    const long n8 = n & ~7L;
    for (long p = 0; p < k; p++) {
      const float* b = P.b.p + p * P.b.rs;
      const float ap = a[p * as];
      const __m256 av = _mm256_set1_ps(ap);
      for (long j = 0; j < n8; j += 8) _mm256_storeu_ps(P.c + j, _mm256_fmadd_ps(av, _mm256_loadu_ps(b + j), _mm256_loadu_ps(P.c + j)));
      for (long j = n8; j < n; j++) P.c[j] = std::fma(ap, b[j], P.c[j]);
    }
    return;
  }
  for (long j = 0; j < n; j++) {  // transposed B: a dot product per column
    float acc = 0.f;
    const float* b = P.b.p + j * P.b.cs;
    for (long p = 0; p < k; p++) acc = std::fma(a[p * as], b[p * P.b.rs], acc);
    P.c[j] = acc;
  }
}

template <long NR>
void gemm_serial(const Problem& P) {
  if (P.m <= 0 || P.n <= 0) return;
  if (P.k <= 0) {
    for (long i = 0; i < P.m; i++) std::fill(P.c + i * P.ldc, P.c + i * P.ldc + P.n, 0.f);
    epilogue(P.c, P.ldc, P.m, P.n, P.bias, P.act, P.alpha);
    return;
  }
  if (P.m == 1) {
    gemv_row(P);
    epilogue(P.c, P.ldc, P.m, P.n, P.bias, P.act, P.alpha);
    return;
  }
  thread_local std::vector<float> abuf, bbuf;
  float* ap = aligned_buffer(abuf, MC * KC);
  float* bp = aligned_buffer(bbuf, KC * NC);
  // row-major A is read in place (6 row streams; packing it would cost as much as the product when N
  // is small); a transposed A is packed into contiguous 6-row panels
  const bool direct = P.a.cs == 1;
  const bool directB = P.b.cs == 1 && P.m <= MC;
  alignas(64) float edge[KC * NR];
  for (long jc = 0; jc < P.n; jc += NC) {
    const long nc = std::min(NC, P.n - jc);
    for (long pc = 0; pc < P.k; pc += KC) {
      const long kc = std::min(KC, P.k - pc);
      if (!directB) pack_b<NR>(P.b, pc, kc, jc, nc, bp);
      for (long ic = 0; ic < P.m; ic += MC) {
        const long mc = std::min(MC, P.m - ic);
        if (!direct) pack_a(P.a, ic, mc, pc, kc, ap);
        for (long jr = 0; jr < nc; jr += NR) {
          const long nr = std::min(NR, nc - jr);
          const float* bpanel = bp + jr * kc;
          long brs = NR;
          if (directB && nr == NR) {
            bpanel = P.b.p + pc * P.b.rs + jc + jr;
            brs = P.b.rs;
          } else if (directB) {
            pack_b<NR>(P.b, pc, kc, jc + jr, nr, edge);
            bpanel = edge;
          }
          for (long ir = 0; ir < mc; ir += MR) {
            float* c = P.c + (ic + ir) * P.ldc + jc + jr;
            const long mr = std::min(MR, mc - ir);
            if (NR == 32) {
              if (direct)
                kernel_6x32<false>(kc, P.a.p + (ic + ir) * P.a.rs + pc, P.a.rs, bpanel, brs, c, P.ldc, mr, nr, pc > 0);
              else
                kernel_6x32<true>(kc, ap + ir * kc, 1, bpanel, brs, c, P.ldc, mr, nr, pc > 0);
            } else if (direct) {
              kernel_6x16<false>(kc, P.a.p + (ic + ir) * P.a.rs + pc, P.a.rs, bpanel, brs, c, P.ldc, mr, nr, pc > 0);
            } else {
              kernel_6x16<true>(kc, ap + ir * kc, 1, bpanel, brs, c, P.ldc, mr, nr, pc > 0);
            }
            // bias and activation while the tile is in L1
            if (pc + kc >= P.k) epilogue(c, P.ldc, mr, nr, P.bias ? P.bias + jc + jr : nullptr, P.act, P.alpha);
          }
        }
      }
    }
  }
}

struct Call {
  char* heap;
  long batch, m, n, k;
  bool ta, tb;
  long aOff, bOff, cOff, biasOff;
  long aBatch, bBatch;  // batch strides in elements (0: broadcast)
  int act;
  float alpha;
  bool wide;  // the AVX-512 kernel
};

Problem sub_problem(const Call& q, long b, long i0, long i1, long j0, long j1) {
  const float* A = reinterpret_cast<const float*>(q.heap + q.aOff) + b * q.aBatch;
  const float* B = reinterpret_cast<const float*>(q.heap + q.bOff) + b * q.bBatch;
  float* C = reinterpret_cast<float*>(q.heap + q.cOff) + b * q.m * q.n;
  // A is [M,K] (or [K,M] when transposed); B is [K,N] (or [N,K])
  Mat a = q.ta ? Mat{A, 1, q.m} : Mat{A, q.k, 1};
  Mat bm = q.tb ? Mat{B, 1, q.k} : Mat{B, q.n, 1};
  a.p += i0 * a.rs;
  bm.p += j0 * bm.cs;
  return Problem{a, bm, C + i0 * q.n + j0, q.n, i1 - i0, j1 - j0, q.k};
}

// Thread t of T: a deterministic share of the work (whole batches when there are enough, else a
// block of rows or columns aligned to the micro-kernel).
void run_share(const Call& q, int t, int T) {
  const float* bias = q.biasOff >= 0 ? reinterpret_cast<const float*>(q.heap + q.biasOff) : nullptr;
  if (q.batch >= T) {
    const long b0 = q.batch * t / T, b1 = q.batch * (t + 1) / T;
    for (long b = b0; b < b1; b++) {
      Problem p = sub_problem(q, b, 0, q.m, 0, q.n);
      p.bias = bias;
      p.act = q.act;
      p.alpha = q.alpha;
      q.wide ? gemm_serial<32>(p) : gemm_serial<16>(p);
    }
    return;
  }
  for (long b = 0; b < q.batch; b++) {
    long i0 = 0, i1 = q.m, j0 = 0, j1 = q.n;
    if (q.m >= q.n) {
      const long panels = (q.m + MR - 1) / MR;
      i0 = std::min(q.m, panels * t / T * MR);
      i1 = std::min(q.m, panels * (t + 1) / T * MR);
    } else {
      const long panels = (q.n + NR_SPLIT - 1) / NR_SPLIT;
      j0 = std::min(q.n, panels * t / T * NR_SPLIT);
      j1 = std::min(q.n, panels * (t + 1) / T * NR_SPLIT);
    }
    if (i1 <= i0 || j1 <= j0) continue;
    Problem p = sub_problem(q, b, i0, i1, j0, j1);
    p.bias = bias ? bias + j0 : nullptr;
    p.act = q.act;
    p.alpha = q.alpha;
    q.wide ? gemm_serial<32>(p) : gemm_serial<16>(p);
  }
}

bool cpu_ok() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool cpu_avx512() {
  __builtin_cpu_init();
  return cpu_ok() && __builtin_cpu_supports("avx512f");
}

// gemm(heap: ArrayBuffer, p: Float64Array[16]) — see native-gemm.ts for the layout of p.
napi_value Gemm(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!vmrArgs(env, info, 2, argv, "vmr_gemm.gemm(heap, params) needs 2 arguments")) return nullptr;
  void* heap = nullptr;
  size_t heapBytes = 0;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &heap, &heapBytes));
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &len, &data, nullptr, nullptr));
  if (type != napi_float64_array || len < 16) {
    napi_throw_type_error(env, nullptr, "vmr_gemm.gemm: params must be a Float64Array of 16");
    return nullptr;
  }
  const double* p = static_cast<const double*>(data);
  Call q;
  q.heap = static_cast<char*>(heap);
  q.aOff = long(p[0]); q.bOff = long(p[1]); q.cOff = long(p[2]); q.biasOff = long(p[3]);
  q.batch = long(p[4]); q.m = long(p[5]); q.n = long(p[6]); q.k = long(p[7]);
  q.ta = p[8] != 0; q.tb = p[9] != 0;
  q.aBatch = long(p[10]); q.bBatch = long(p[11]);
  q.act = int(p[12]); q.alpha = float(p[13]);
  int threads = std::max(1, int(p[14]));
  // p[15] = 1: the AVX2 kernel even where AVX-512 exists. Small M with row-major B (read in place) ran
  // slower 32 wide (measured), so it stays on AVX2; the choice never changes results.
  q.wide = p[15] != 1 && cpu_avx512() && !(q.m <= MC && !q.tb);
  // bounds: every operand inside the heap
  const long nA = (q.aBatch ? q.batch : 1) * q.m * q.k, nB = (q.bBatch ? q.batch : 1) * q.k * q.n, nC = q.batch * q.m * q.n;
  auto inside = [&](long off, long count) { return off >= 0 && off % 4 == 0 && size_t(off) + size_t(count) * 4 <= heapBytes; };
  if (q.batch < 0 || q.m < 0 || q.n < 0 || q.k < 0 || !inside(q.aOff, nA) || !inside(q.bOff, nB) || !inside(q.cOff, nC) ||
      (q.biasOff >= 0 && !inside(q.biasOff, q.n))) {
    napi_throw_range_error(env, nullptr, "vmr_gemm.gemm: an operand lies outside the heap");
    return nullptr;
  }
  const double flops = 2.0 * double(q.batch) * double(q.m) * double(q.n) * double(q.k);
  if (flops < 3.0e7) threads = 1;  // below ~0.5 ms of work a thread start (and a busy second core) costs more than it saves
  if (threads == 1) {
    run_share(q, 0, 1);
  } else {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; t++) pool.emplace_back(run_share, std::cref(q), t, threads);
    run_share(q, 0, threads);
    for (auto& th : pool) th.join();
  }
  return nullptr;
}

// The DropoutStream of libs/core/src/tf/dropout.ts (mulberry32, four entries per draw), bit for bit:
// dropoutFill(out: Float32Array, offset, n, state, thr, keep) → the stream's new state.
inline uint32_t mulberry32(uint32_t& a) {
  a += 0x6d2b79f5u;
  uint32_t t = (a ^ (a >> 15)) * (a | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return t ^ (t >> 14);
}

void fill_one(float* out, long n, uint32_t& state, uint32_t hi, uint32_t lo, float keep) {
  long i = 0;
  for (; i + 4 <= n; i += 4) {  // whole draws: no bounds test per byte; a tie (1 in 256) draws once more
    const uint32_t t = mulberry32(state);
    for (int j = 0; j < 4; j++) {
      const uint32_t b = (t >> (8 * j)) & 255u;
      float v = b < hi ? 0.f : keep;
      if (__builtin_expect(b == hi, 0)) v = (mulberry32(state) & 255u) < lo ? 0.f : keep;
      out[i + j] = v;
    }
  }
  while (i < n) {
    const uint32_t t = mulberry32(state);
    for (int sh = 0; sh < 32 && i < n; sh += 8, i++) {
      const uint32_t b = (t >> sh) & 255u;
      out[i] = b < hi ? 0.f : b > hi ? keep : ((mulberry32(state) & 255u) < lo ? 0.f : keep);
    }
  }
}

// dropoutFill(out: Float32Array, offset, n, state, thr, keep[, count, stride]) → the stream's new state:
// `count` successive fills of n entries at offset + c·stride (as `count` calls of DropoutStream.fill).
napi_value DropoutFill(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 6) {
    napi_throw_type_error(env, nullptr, "vmr_gemm.dropoutFill(out, offset, n, state, thr, keep[, count, stride]) needs 6 arguments");
    return nullptr;
  }
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &len, &data, nullptr, nullptr));
  double offD, nD, keepD, countD = 1, strideD = 0;
  uint32_t state, thr;
  CHECK(napi_get_value_double(env, argv[1], &offD));
  CHECK(napi_get_value_double(env, argv[2], &nD));
  CHECK(napi_get_value_uint32(env, argv[3], &state));
  CHECK(napi_get_value_uint32(env, argv[4], &thr));
  CHECK(napi_get_value_double(env, argv[5], &keepD));
  if (argc >= 8) {
    CHECK(napi_get_value_double(env, argv[6], &countD));
    CHECK(napi_get_value_double(env, argv[7], &strideD));
  }
  const long off = long(offD), n = long(nD), count = long(countD), stride = long(strideD);
  const long last = count > 0 ? off + (count - 1) * stride + n : off;
  if (type != napi_float32_array || off < 0 || n < 0 || count < 0 || stride < 0 || size_t(last) > len) {
    napi_throw_range_error(env, nullptr, "vmr_gemm.dropoutFill: out must be a Float32Array holding every filled entry");
    return nullptr;
  }
  float* out = static_cast<float*>(data) + off;
  for (long c = 0; c < count; c++) fill_one(out + c * stride, n, state, thr >> 8, thr & 255u, float(keepD));
  napi_value result;
  CHECK(napi_create_uint32(env, state, &result));
  return result;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, isa, hw;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, cpu_avx512() ? "avx512" : cpu_ok() ? "avx2" : "none", NAPI_AUTO_LENGTH, &isa));
  CHECK(napi_create_uint32(env, std::thread::hardware_concurrency(), &hw));
  CHECK(napi_set_named_property(env, obj, "isa", isa));
  CHECK(napi_set_named_property(env, obj, "hardwareThreads", hw));
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  if (!vmrExport(env, exports, "gemm", Gemm) || !vmrExport(env, exports, "dropoutFill", DropoutFill) || !vmrExport(env, exports, "info", Info)) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
