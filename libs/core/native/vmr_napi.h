// Shared by VMR Lab's N-API addons (libs/core/native/gemm.cc, libs/features/native/*.cc; build.js puts
// this folder on the include path and rebuilds an addon when this header changes).
#pragma once
#include <node_api.h>

// Each addon defines VMR_ADDON_NAME ("vmr_gemm", "vmr_features") before including this header.
#ifndef VMR_ADDON_NAME
#error "define VMR_ADDON_NAME before including vmr_napi.h"
#endif

// Return nullptr from an N-API callback, with a JS error naming the addon and the call, when a call fails.
#define CHECK(call)                                                                        \
  do {                                                                                     \
    if ((call) != napi_ok) {                                                               \
      napi_throw_error(env, nullptr, VMR_ADDON_NAME ": N-API call failed: " #call);        \
      return nullptr;                                                                      \
    }                                                                                      \
  } while (0)

// A typed array's data when `v` is one of type `want` with at least `need` elements; nullptr otherwise.
inline void* vmrTypedArray(napi_env env, napi_value v, napi_typedarray_type want, size_t need) {
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) != napi_ok || type != want || len < need) return nullptr;
  return data;
}

// Fills argv with the callback's first n arguments; false (a TypeError with `usage` thrown) when fewer came.
inline bool vmrArgs(napi_env env, napi_callback_info info, size_t n, napi_value* argv, const char* usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < n) {
    napi_throw_type_error(env, nullptr, usage);
    return false;
  }
  return true;
}

// exports[name] = a function calling `fn`; false when N-API fails.
inline bool vmrExport(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value f;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f) == napi_ok && napi_set_named_property(env, exports, name, f) == napi_ok;
}
