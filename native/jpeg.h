// @file The JPEG decoder's bindings (jpeg.cc), registered by addon.cc.
#pragma once
#include <napi.h>

namespace ks {
Napi::Value JpegAvailable(const Napi::CallbackInfo& info);
Napi::Value ReadJpegsBinding(const Napi::CallbackInfo& info);
}  // namespace ks
