// Part of the @vmr/features addon (vmr_features.node; addon.cc registers it).
// The per-frame sums of the builtin-video descriptor (libs/features/src/extractors/builtin-video.ts):
// the same double-precision operations in the same order as the TypeScript loops, so the sums — and
// the 32 values the TypeScript derives from them — are the same bits (builtin-video.spec.ts checks).
#define VMR_ADDON_NAME "vmr_features"
#include "vmr_napi.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace {

// Output layout (Float64Array of FRAME_SUMS):
//  0 sb  1 sg  2 sr  3 sb2  4 sg2  5 sr2  6 sat  7 sgr  8 sgr2  9-16 hist[8]
// 17 gm 18 edges 19 cnt 20-23 orient[4]
// 24 s 25 s2 26 moving 27 su 28 sv 29-32 dir[4]   (flow; when given)
// 33 sd                                            (frame difference; when a previous frame is given)
const int FRAME_SUMS = 34;

const double TAN_PI_8 = 1.4142135623730951 - 1;   // Math.SQRT2 − 1
const double TAN_3PI_8 = 1.4142135623730951 + 1;  // Math.SQRT2 + 1

// gradientOrientationBin of builtin-video.ts, without branches (the bins of 8-bit images are
// unpredictable, and a mispredicted branch per pixel cost more than the rest of the loop).
inline int orientationBin(int dx, int dy) {
  const int flip = dy < 0;
  dx = flip ? -dx : dx;
  dy = flip ? -dy : dy;
  const int ax = dx < 0 ? -dx : dx;
  const int low = dy < TAN_PI_8 * ax, high = dy > TAN_3PI_8 * ax;
  const int mid = dx > 0 ? 1 : 3;
  return low ? 0 : high ? 2 : mid;
}

// The loops of frameSumsTs in builtin-video.ts. Every sum adds its terms in pixel order, as there;
// where the TypeScript skips a term (a bin not hit, a zero magnitude) this adds +0.0, which leaves a
// sum of non-negative terms unchanged, so the results are the same doubles.
void frameSums(const uint8_t* bgr, const uint8_t* g, int w, int h, const float* flow, const uint8_t* prev, double* o) {
  const long n = long(w) * h;
  // Integer-valued sums are exact in a double (< 2^53) whatever the order, so they run in integers;
  // the others keep the pixel order.
  int64_t sb = 0, sg = 0, sr = 0, sb2 = 0, sg2 = 0, sr2 = 0, sgr = 0, sgr2 = 0;
  double sat = 0;
  int64_t hist[8] = {0};
  for (long i = 0, k = 0; i < n; i++, k += 3) {
    const int b = bgr[k], gg = bgr[k + 1], r = bgr[k + 2];
    sb += b;
    sg += gg;
    sr += r;
    sb2 += b * b;
    sg2 += gg * gg;
    sr2 += r * r;
    const int y = g[i];
    sgr += y;
    sgr2 += y * y;
    hist[y >> 5]++;
  }
  for (long i = 0, k = 0; i < n; i++, k += 3) {
    const int b = bgr[k], gg = bgr[k + 1], r = bgr[k + 2];
    const int mx = r > gg ? (r > b ? r : b) : gg > b ? gg : b;
    const int mn = r < gg ? (r < b ? r : b) : gg < b ? gg : b;
    sat += mx > 0 ? double(mx - mn) / mx : 0.0;  // the saturation table's entry, 0 for black
  }
  o[0] = double(sb), o[1] = double(sg), o[2] = double(sr), o[3] = double(sb2), o[4] = double(sg2), o[5] = double(sr2), o[6] = sat, o[7] = double(sgr), o[8] = double(sgr2);
  for (int b = 0; b < 8; b++) o[9 + b] = double(hist[b]);
  double gm = 0;
  int64_t edges = 0, cnt = 0;
  double o0 = 0, o1 = 0, o2 = 0, o3 = 0;
  for (int y = 1; y < h - 1; y++) {
    for (int x = 1; x < w - 1; x++) {
      const long i = long(y) * w + x;
      const int dx = g[i + 1] - g[i - 1];
      const int dy = g[i + w] - g[i - w];
      const double gx = dx / 2.0, gy = dy / 2.0;
      const double m = std::sqrt(gx * gx + gy * gy);
      gm += m;
      cnt++;
      edges += m > 32;
      const int bin = orientationBin(dx, dy);
      o0 += bin == 0 ? m : 0.0;
      o1 += bin == 1 ? m : 0.0;
      o2 += bin == 2 ? m : 0.0;
      o3 += bin == 3 ? m : 0.0;
    }
  }
  o[17] = gm, o[18] = double(edges), o[19] = double(cnt);
  o[20] = o0, o[21] = o1, o[22] = o2, o[23] = o3;
  if (flow) {
    double s = 0, s2 = 0, su = 0, sv = 0;
    int64_t moving = 0;
    double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    for (long k = 0; k < 2 * n; k += 2) {
      const double u = flow[k], v = flow[k + 1];
      const double m = double(float(std::sqrt(u * u + v * v)));  // Math.fround(Math.sqrt(…))
      s += m;
      s2 += m * m;
      su += u;
      sv += v;
      moving += m > 1;
      const bool horizontal = std::fabs(u) >= std::fabs(v);
      const int dir = !(m > 0) ? -1 : horizontal ? (u >= 0 ? 0 : 2) : (v >= 0 ? 1 : 3);  // -1: skipped (0 or NaN)
      d0 += dir == 0 ? m : 0.0;
      d1 += dir == 1 ? m : 0.0;
      d2 += dir == 2 ? m : 0.0;
      d3 += dir == 3 ? m : 0.0;
    }
    o[24] = s, o[25] = s2, o[26] = double(moving), o[27] = su, o[28] = sv;
    o[29] = d0, o[30] = d1, o[31] = d2, o[32] = d3;
  }
  if (prev) {
    int64_t sd = 0;
    for (long i = 0; i < n; i++) sd += std::abs(int(g[i]) - int(prev[i]));
    o[33] = double(sd);
  }
}

// Optional typed-array argument: nullptr for null/undefined, BAD for a wrong type or length.
void* const BAD = reinterpret_cast<void*>(-1);
void* optionalTypedArray(napi_env env, napi_value v, napi_typedarray_type want, size_t need) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null) return nullptr;
  void* data = vmrTypedArray(env, v, want, need);
  return data ? data : BAD;
}

// frameSums(bgr: Uint8Array, gray: Uint8Array, width, height, flow: Float32Array | null, prev: Uint8Array | null, out: Float64Array(34))
napi_value FrameSums(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!vmrArgs(env, info, 7, argv, "vmr_features.frameSums(bgr, gray, width, height, flow, prev, out) needs 7 arguments")) return nullptr;
  int32_t w = 0, h = 0;
  CHECK(napi_get_value_int32(env, argv[2], &w));
  CHECK(napi_get_value_int32(env, argv[3], &h));
  if (w < 1 || h < 1) {
    napi_throw_range_error(env, nullptr, "vmr_features.frameSums: width and height must be >= 1");
    return nullptr;
  }
  const size_t n = size_t(w) * h;
  void* bgr = vmrTypedArray(env, argv[0], napi_uint8_array, 3 * n);
  void* g = vmrTypedArray(env, argv[1], napi_uint8_array, n);
  void* flow = optionalTypedArray(env, argv[4], napi_float32_array, 2 * n);
  void* prev = optionalTypedArray(env, argv[5], napi_uint8_array, n);
  void* out = vmrTypedArray(env, argv[6], napi_float64_array, FRAME_SUMS);
  if (!bgr || !g || flow == BAD || prev == BAD || !out) {
    napi_throw_type_error(env, nullptr, "vmr_features.frameSums: bgr Uint8Array(3wh), gray Uint8Array(wh), flow Float32Array(2wh) or null, prev Uint8Array(wh) or null, out Float64Array(34)");
    return nullptr;
  }
  frameSums(static_cast<uint8_t*>(bgr), static_cast<uint8_t*>(g), w, h, static_cast<float*>(flow), static_cast<uint8_t*>(prev), static_cast<double*>(out));
  return nullptr;
}

}  // namespace

napi_value registerFrameStats(napi_env env, napi_value exports) {
  return vmrExport(env, exports, "frameSums", FrameSums) ? exports : nullptr;
}
