// The @vmr/features native addon (vmr_features.node, built by libs/core/native/build.js): the
// Farnebäck flow (farneback.cc), the flow frames' resize + grey (prepare.cc) and the builtin-video frame
// sums (frame_stats.cc). All optional: without the addon, OpenCV.js and the TypeScript code compute the
// same bits.
#include <node_api.h>

napi_value registerFlow(napi_env env, napi_value exports);
napi_value registerFrameStats(napi_env env, napi_value exports);
napi_value registerPrepare(napi_env env, napi_value exports);

namespace {
napi_value Init(napi_env env, napi_value exports) {
  if (!registerFlow(env, exports)) return nullptr;
  if (!registerFrameStats(env, exports)) return nullptr;
  if (!registerPrepare(env, exports)) return nullptr;
  return exports;
}
}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
