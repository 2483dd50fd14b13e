// Part of the @vmr/features addon (vmr_features.node; addon.cc registers it).
// The flow frames' preparation as OpenCV.js does it (FarnebackFlow.prepare): cv.resize INTER_LINEAR of
// an 8-bit image to the flow size, then cv.cvtColor BGR2GRAY — OpenCV's scalar 8-bit code paths:
//  - resize: exact 2× reductions run as INTER_AREA's rounded 2×2 mean; otherwise fixed-point linear
//    interpolation, 11-bit coefficients (float weights × 2048, rounded half to even), exact int rows, then
//    the vertical pass of OpenCV's universal-intrinsics code (16-bit products, see below), borders
//    clamped as cv::resize does;
//  - grey: (3735·B + 19235·G + 9798·R + 2^14) >> 15 (OpenCV 4's 15-bit coefficients).
// The same bytes as OpenCV.js (native-prepare.spec.ts compares every pixel on every shared clip).
#define VMR_ADDON_NAME "vmr_features"
#include "vmr_napi.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

inline int floorF(float v) {
  int i = int(v);
  return i - (float(i) > v ? 1 : 0);
}
inline short roundShort(float v) {  // saturate_cast<short>(float): round half to even, then clamp
  const long r = std::lrint(v);
  return short(r < -32768 ? -32768 : r > 32767 ? 32767 : r);
}

const int COEF_BITS = 11, COEF_SCALE = 1 << COEF_BITS;

void resize8u(const uint8_t* src, int sw, int sh, int cn, uint8_t* dst, int dw, int dh) {
  if (sw == dw && sh == dh) {
    std::memcpy(dst, src, size_t(sw) * sh * cn);
    return;
  }
  const double scaleX = 1. / (double(dw) / sw), scaleY = 1. / (double(dh) / sh);
  const int isx = int(std::lround(scaleX)), isy = int(std::lround(scaleY));
  const double eps = 2.220446049250313e-16;
  if (std::fabs(scaleX - isx) < eps && std::fabs(scaleY - isy) < eps && isx == 2 && isy == 2) {
    // INTER_AREA, 2×2: (a + b + c + d + 2) >> 2 per channel
    const size_t step = size_t(sw) * cn;
    for (int dy = 0; dy < dh; dy++) {
      const uint8_t* S = src + size_t(2 * dy) * step;
      const uint8_t* N = S + step;
      uint8_t* D = dst + size_t(dy) * dw * cn;
      for (int dx = 0; dx < dw; dx++)
        for (int c = 0; c < cn; c++) {
          const int i = 2 * dx * cn + c;
          D[dx * cn + c] = uint8_t((S[i] + S[i + cn] + N[i] + N[i + cn] + 2) >> 2);
        }
    }
    return;
  }
  const int W = dw * cn;
  std::vector<int> xofs(W);
  std::vector<short> alpha(2 * size_t(W));
  int xmax = W;
  for (int dx = 0; dx < dw; dx++) {
    float fx = float((dx + 0.5) * scaleX - 0.5);
    int sx = floorF(fx);
    fx -= sx;
    if (sx < 0) fx = 0, sx = 0;
    if (sx + 1 >= sw) {
      xmax = std::min(xmax, dx * cn);
      if (sx >= sw - 1) fx = 0, sx = sw - 1;
    }
    const short a0 = roundShort((1.f - fx) * COEF_SCALE), a1 = roundShort(fx * COEF_SCALE);
    for (int c = 0; c < cn; c++) {
      xofs[dx * cn + c] = sx * cn + c;
      alpha[2 * (dx * cn + c)] = a0;
      alpha[2 * (dx * cn + c) + 1] = a1;
    }
  }
  std::vector<int> rowA(W), rowB(W);
  int haveA = -1, haveB = -1;
  auto hrow = [&](int sy, int* D) {
    const uint8_t* S = src + size_t(sy) * sw * cn;
    int x = 0;
    for (; x < xmax; x++) D[x] = S[xofs[x]] * alpha[2 * x] + S[xofs[x] + cn] * alpha[2 * x + 1];
    for (; x < W; x++) D[x] = S[xofs[x]] * COEF_SCALE;
  };
  for (int dy = 0; dy < dh; dy++) {
    float fy = float((dy + 0.5) * scaleY - 0.5);
    const int sy = floorF(fy);
    fy -= sy;
    const short b0 = roundShort((1.f - fy) * COEF_SCALE), b1 = roundShort(fy * COEF_SCALE);
    const int r0 = std::min(std::max(sy, 0), sh - 1), r1 = std::min(std::max(sy + 1, 0), sh - 1);
    if (haveA != r0) {
      if (haveB == r0) std::swap(rowA, rowB), std::swap(haveA, haveB);
      else hrow(r0, rowA.data()), haveA = r0;
    }
    if (haveB != r1) hrow(r1, rowB.data()), haveB = r1;
    uint8_t* D = dst + size_t(dy) * W;
    const int* A = rowA.data();
    const int* B = rowB.data();
    // OpenCV's vertical pass as its universal-intrinsics code (VResizeLinearVec_32s8u) computes it, in
    // 16-bit products: ((S0 >> 4)·b0 >> 16) + ((S1 >> 4)·b1 >> 16), rounded >> 2 — for every element in
    // OpenCV.js 4.10, row tails included (checked on odd widths in native-prepare.spec.ts).
    for (int x = 0; x < W; x++) {
      const int v = ((((A[x] >> 4) * b0) >> 16) + (((B[x] >> 4) * b1) >> 16) + 2) >> 2;
      D[x] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

void bgrToGray(const uint8_t* bgr, uint8_t* gray, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t* p = bgr + 3 * i;
    gray[i] = uint8_t((p[0] * 3735 + p[1] * 19235 + p[2] * 9798 + (1 << 14)) >> 15);
  }
}

// prepareFrame(src: Uint8Array, width, height, channels (1|3), outWidth, outHeight, bgr: Uint8Array | null, gray: Uint8Array)
napi_value PrepareFrame(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!vmrArgs(env, info, 8, argv, "vmr_features.prepareFrame(src, width, height, channels, outWidth, outHeight, bgr, gray) needs 8 arguments")) return nullptr;
  int32_t sw = 0, sh = 0, cn = 0, dw = 0, dh = 0;
  CHECK(napi_get_value_int32(env, argv[1], &sw));
  CHECK(napi_get_value_int32(env, argv[2], &sh));
  CHECK(napi_get_value_int32(env, argv[3], &cn));
  CHECK(napi_get_value_int32(env, argv[4], &dw));
  CHECK(napi_get_value_int32(env, argv[5], &dh));
  if (sw < 1 || sh < 1 || dw < 1 || dh < 1 || (cn != 1 && cn != 3)) {
    napi_throw_range_error(env, nullptr, "vmr_features.prepareFrame: sizes must be >= 1 and channels 1 or 3");
    return nullptr;
  }
  void* src = vmrTypedArray(env, argv[0], napi_uint8_array, size_t(sw) * sh * cn);
  void* gray = vmrTypedArray(env, argv[7], napi_uint8_array, size_t(dw) * dh);
  void* bgr = cn == 3 ? vmrTypedArray(env, argv[6], napi_uint8_array, size_t(dw) * dh * 3) : nullptr;
  if (!src || !gray || (cn == 3 && !bgr)) {
    napi_throw_type_error(env, nullptr, "vmr_features.prepareFrame: src Uint8Array(w*h*channels), bgr Uint8Array(ow*oh*3) for colour input, gray Uint8Array(ow*oh)");
    return nullptr;
  }
  if (cn == 3) {
    resize8u(static_cast<uint8_t*>(src), sw, sh, 3, static_cast<uint8_t*>(bgr), dw, dh);
    bgrToGray(static_cast<uint8_t*>(bgr), static_cast<uint8_t*>(gray), size_t(dw) * dh);
  } else {
    resize8u(static_cast<uint8_t*>(src), sw, sh, 1, static_cast<uint8_t*>(gray), dw, dh);
  }
  return nullptr;
}

}  // namespace

napi_value registerPrepare(napi_env env, napi_value exports) {
  return vmrExport(env, exports, "prepareFrame", PrepareFrame) ? exports : nullptr;
}
