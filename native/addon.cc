// @file The Node-API face of the CPU backend: a `Context` (thread pool + scratch + the kernel
// table of one ISA) whose methods run kernels synchronously on Float32Arrays.
//
// One generic binding serves every kernel: `run(kernel, ...buffers, ...scalars)`. This is the
// memory-safety boundary: every array is checked to be a Float32Array at least as long as its
// declared length rule says before any kernel touches it, so a wrong shape from JavaScript
// raises a RangeError instead of corrupting memory.
#include <napi.h>

#include <cmath>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "jpeg.h"
#include "kernels.h"
#include "runtime_impl.h"

namespace ks {
namespace {

// ---- what a kernel's C++ signature says about its arguments -------------------------------------
//
// Each parameter type after Runtime* takes its values from the call: a float pointer takes the
// next buffer (const: 'r', read; mutable: 'w', written or updated), a scalar the next scalar
// ('i' an int64_t size, 'f' a float, 'b' a bool); a shape struct stands for several scalars.

/** The buffers and scalars of one call, already checked against the kernel's declaration. */
struct Call {
  float* const* buffers;
  const double* scalars;
  int buffer = 0;
  int scalar = 0;
  float* next_buffer() { return buffers[buffer++]; }
  double next_scalar() { return scalars[scalar++]; }
  int64_t size() { return static_cast<int64_t>(next_scalar()); }
  float number() { return static_cast<float>(next_scalar()); }
  bool flag() { return next_scalar() != 0; }
};

template <class T>
struct Arg;

template <>
struct Arg<const float*> {
  static constexpr const char* buffers = "r";
  static constexpr const char* scalars = "";
  static const float* take(Call& c) { return c.next_buffer(); }
};
template <>
struct Arg<float*> {
  static constexpr const char* buffers = "w";
  static constexpr const char* scalars = "";
  static float* take(Call& c) { return c.next_buffer(); }
};
template <>
struct Arg<int64_t> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "i";
  static int64_t take(Call& c) { return c.size(); }
};
template <>
struct Arg<float> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "f";
  static float take(Call& c) { return c.number(); }
};
template <>
struct Arg<bool> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "b";
  static bool take(Call& c) { return c.flag(); }
};
template <>
struct Arg<const ConvShape&> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "iiiii";
  static ConvShape take(Call& c) {
    ConvShape s;
    s.n = c.size();
    s.h = c.size();
    s.w = c.size();
    s.cin = c.size();
    s.cout = c.size();
    return s;
  }
};
template <>
struct Arg<const GeneralConvShape&> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "iiiiiiiii";
  static GeneralConvShape take(Call& c) {
    GeneralConvShape s;
    for (int64_t* field : {&s.n, &s.h, &s.w, &s.cin, &s.cout, &s.k, &s.pad, &s.oh, &s.ow}) *field = c.size();
    return s;
  }
};
template <>
struct Arg<const BatchNormShape&> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "iifb";
  static BatchNormShape take(Call& c) {
    BatchNormShape s;
    s.rows = c.size();
    s.channels = c.size();
    s.eps = c.number();
    s.relu = c.flag();
    return s;
  }
};
template <>
struct Arg<const SgdHyper&> {
  static constexpr const char* buffers = "";
  static constexpr const char* scalars = "fffb";
  static SgdHyper take(Call& c) {
    SgdHyper h;
    h.lr = c.number();
    h.momentum = c.number();
    h.weight_decay = c.number();
    h.nesterov = c.flag();
    return h;
  }
};

/** "rrw:iiiii": a signature's buffers and scalars, the form the declarations are compared in. */
template <class... Ts>
std::string describe(void (*)(Runtime*, Ts...)) {
  std::string buffers, scalars;
  ((buffers += Arg<Ts>::buffers, scalars += Arg<Ts>::scalars), ...);
  return buffers + ":" + scalars;
}

template <class... Ts>
void invoke(void (*kernel)(Runtime*, Ts...), Runtime* rt, Call& call) {
  // A braced list evaluates left to right, so the arguments are taken in signature order.
  std::tuple<std::decay_t<Ts>...> args{Arg<Ts>::take(call)...};
  std::apply([&](auto&... a) { kernel(rt, a...); }, args);
}

/** One entry of KS_KERNELS: its name, its signature's description, and how to call it. */
struct NativeKernel {
  const char* name;
  std::string (*describe)();
  void (*invoke)(const KernelTable&, Runtime*, Call&);
};

#define KS_NATIVE_KERNEL(name, params)                                                   \
  NativeKernel{#name, [] { return describe(KernelTable{}.name); },                       \
               [](const KernelTable& t, Runtime* rt, Call& c) { invoke(t.name, rt, c); }},
const NativeKernel kNativeKernels[] = {KS_KERNELS(KS_NATIVE_KERNEL)};
#undef KS_NATIVE_KERNEL

// ---- the declarations from src/core/kernels.ts ----------------------------------------------------

enum class ParamKind { kSize, kCount, kNumber, kFlag };

/** floor(param / divisor), or the constant `divisor` when param is -1. */
struct LengthFactor {
  int param;
  int64_t divisor;
};

struct BufferRule {
  std::string name;
  bool written;
  std::vector<LengthFactor> length;
};

/** One declared kernel: how to check a call's arguments, and the native kernel it runs. */
struct BoundKernel {
  std::string name;    // as declared (camelCase), for messages
  std::string native;  // as in KS_KERNELS (snake_case)
  std::vector<BufferRule> buffers;
  std::vector<std::pair<std::string, ParamKind>> params;
  const NativeKernel* kernel;
};

/** The most buffers, and the most scalars, one kernel call holds. */
constexpr size_t kMaxArguments = 16;

std::string get_string(const Napi::Object& o, const char* key) {
  return o.Get(key).As<Napi::String>().Utf8Value();
}

/**
 * Reads the declarations ([{ name, native, buffers: [{ name, access, length: [[param, divisor]...] }],
 * params: [{ name, kind }] }], built by src/backends/cpu/native.ts) and pairs each with its
 * native kernel. Throws, naming the kernel, unless the two lists hold the same kernels with
 * agreeing signatures.
 */
std::vector<BoundKernel> bind_declarations(Napi::Env env, const Napi::Array& declared) {
  std::vector<BoundKernel> kernels;
  std::vector<bool> used(std::size(kNativeKernels), false);
  for (uint32_t i = 0; i < declared.Length(); i++) {
    const Napi::Object d = declared.Get(i).As<Napi::Object>();
    BoundKernel k;
    k.name = get_string(d, "name");
    k.native = get_string(d, "native");
    std::string buffer_codes, scalar_codes;
    const Napi::Array buffers = d.Get("buffers").As<Napi::Array>();
    for (uint32_t b = 0; b < buffers.Length(); b++) {
      const Napi::Object o = buffers.Get(b).As<Napi::Object>();
      BufferRule rule{get_string(o, "name"), get_string(o, "access") != "read", {}};
      const Napi::Array factors = o.Get("length").As<Napi::Array>();
      for (uint32_t f = 0; f < factors.Length(); f++) {
        const Napi::Array pair = factors.Get(f).As<Napi::Array>();
        rule.length.push_back({pair.Get(0u).As<Napi::Number>().Int32Value(),
                               pair.Get(1u).As<Napi::Number>().Int64Value()});
      }
      buffer_codes += rule.written ? 'w' : 'r';
      k.buffers.push_back(std::move(rule));
    }
    const Napi::Array params = d.Get("params").As<Napi::Array>();
    for (uint32_t p = 0; p < params.Length(); p++) {
      const Napi::Object o = params.Get(p).As<Napi::Object>();
      const std::string kind = get_string(o, "kind");
      const ParamKind pk = kind == "size" ? ParamKind::kSize : kind == "count" ? ParamKind::kCount
                           : kind == "number" ? ParamKind::kNumber : ParamKind::kFlag;
      scalar_codes += pk == ParamKind::kNumber ? 'f' : pk == ParamKind::kFlag ? 'b' : 'i';
      k.params.emplace_back(get_string(o, "name"), pk);
    }
    k.kernel = nullptr;
    for (size_t n = 0; n < std::size(kNativeKernels); n++) {
      if (k.native == kNativeKernels[n].name) {
        k.kernel = &kNativeKernels[n];
        used[n] = true;
      }
    }
    if (k.buffers.size() > kMaxArguments || k.params.size() > kMaxArguments) {
      throw Napi::Error::New(env, "kernel '" + k.name + "' has more buffers or scalars than the binding holds (raise kMaxArguments)");
    }
    if (k.kernel == nullptr) {
      throw Napi::Error::New(env, "kernel '" + k.name + "' is declared in src/core/kernels.ts but the native addon " +
                                      "has no kernel '" + k.native + "': add it to KS_KERNELS in native/kernels.h, " +
                                      "define it in native/kernels/, and rebuild the addon");
    }
    const std::string declared_signature = buffer_codes + ":" + scalar_codes;
    const std::string native_signature = k.kernel->describe();
    if (declared_signature != native_signature) {
      throw Napi::Error::New(env, "kernel '" + k.name + "': src/core/kernels.ts declares buffers:scalars '" +
                                      declared_signature + "' but its C++ signature in native/kernels.h takes '" +
                                      native_signature + "' (r = read buffer, w = written buffer, i = size, " +
                                      "f = float, b = flag, in order)");
    }
    kernels.push_back(std::move(k));
  }
  for (size_t n = 0; n < std::size(kNativeKernels); n++) {
    if (!used[n]) {
      throw Napi::Error::New(env, std::string("native kernel '") + kNativeKernels[n].name +
                                      "' (native/kernels.h) is not declared in src/core/kernels.ts: declare it there, " +
                                      "or remove it from KS_KERNELS");
    }
  }
  return kernels;
}

/** Checks one call's arguments against its declaration; the kernel runs only if all pass. */
void check_call(const Napi::CallbackInfo& info, const BoundKernel& k, float** buffers, double* scalars) {
  const Napi::Env env = info.Env();
  const size_t nb = k.buffers.size(), np = k.params.size();
  if (info.Length() != 1 + nb + np) {
    throw Napi::TypeError::New(env, k.name + " takes " + std::to_string(nb) + " buffers and " + std::to_string(np) +
                                        " scalars, got " + std::to_string(info.Length() - 1) + " arguments");
  }
  for (size_t p = 0; p < np; p++) {
    const auto& [name, kind] = k.params[p];
    const Napi::Value v = info[1 + nb + p];
    if (kind == ParamKind::kFlag) {
      if (!v.IsBoolean()) throw Napi::TypeError::New(env, k.name + ": " + name + " must be a boolean");
      scalars[p] = v.As<Napi::Boolean>().Value() ? 1 : 0;
      continue;
    }
    if (!v.IsNumber()) throw Napi::TypeError::New(env, k.name + ": " + name + " must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (kind != ParamKind::kNumber) {
      const double least = kind == ParamKind::kCount ? 1 : 0;
      if (!(d >= least) || d != std::floor(d) || d > 9.007199254740991e15) {
        throw Napi::RangeError::New(env, k.name + ": " + name + " must be an integer >= " +
                                             std::to_string(static_cast<int>(least)));
      }
    }
    scalars[p] = d;
  }
  for (size_t b = 0; b < nb; b++) {
    const BufferRule& rule = k.buffers[b];
    const Napi::Value v = info[1 + b];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, k.name + ": " + rule.name + " must be a Float32Array");
    }
    auto array = v.As<Napi::Float32Array>();
    double need = 1;
    for (const LengthFactor& f : rule.length) need *= f.param < 0 ? f.divisor : std::floor(scalars[f.param] / f.divisor);
    if (static_cast<double>(array.ElementLength()) < need) {
      throw Napi::RangeError::New(env, k.name + ": " + rule.name + " holds " + std::to_string(array.ElementLength()) +
                                           " floats but the shape needs " + std::to_string(static_cast<int64_t>(need)));
    }
    buffers[b] = array.Data();
  }
}

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context", {
      InstanceAccessor<&Context::Isa>("isa"),
      InstanceAccessor<&Context::Threads>("threads"),
      InstanceMethod<&Context::ScratchBytes>("scratchBytes"),
      InstanceMethod<&Context::Dispose>("dispose"),
      InstanceMethod<&Context::Run>("run"),
    });
  }

  /**
   * new Context(threads, isa, conv, declarations): isa is "scalar" | "avx2" | "avx512" |
   * "avx512bf16" | "amx" | "" (the best float32 table); conv is "auto" | "direct" | "winograd2" | "winograd4"; declarations are the
   * kernels of src/core/kernels.ts, in the order `run` numbers them.
   */
  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
    const Napi::Env env = info.Env();
    const double threads = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 1;
    const std::string isa = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    const std::string conv = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "auto";
    if (!info[3].IsArray()) throw Napi::TypeError::New(env, "new Context needs the kernel declarations");
    kernels_ = isa.empty() ? best_kernels() : select_kernels(isa.c_str());
    if (kernels_ == nullptr) throw Napi::Error::New(env, "this CPU cannot run the '" + isa + "' kernels");
    const int algorithm = conv == "direct"      ? kConvDirect
                          : conv == "winograd2" ? kConvWinograd2
                          : conv == "winograd4" ? kConvWinograd4
                                                : kConvAuto;
    if (algorithm == kConvAuto && conv != "auto") {
      throw Napi::Error::New(env, "unknown convolution algorithm '" + conv + "'");
    }
    bound_ = bind_declarations(env, info[3].As<Napi::Array>());
    runtime_ = std::make_unique<Runtime>(threads < 1 ? 1 : (threads > 256 ? 256 : static_cast<int>(threads)), algorithm);
  }

 private:
  Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kernels_->isa); }
  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), runtime_ ? runtime_->threads() : 0);
  }
  Napi::Value ScratchBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), runtime_ ? static_cast<double>(runtime_->scratch_bytes()) : 0.0);
  }
  void Dispose(const Napi::CallbackInfo&) { runtime_.reset(); }

  // run(kernel, ...buffers, ...scalars): `kernel` indexes the declarations given to the constructor.
  void Run(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!runtime_) throw Napi::Error::New(env, "the CPU backend was disposed");
    const double index = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(index >= 0 && index < static_cast<double>(bound_.size()) && index == std::floor(index))) {
      throw Napi::RangeError::New(env, "run: the first argument must index a declared kernel");
    }
    const BoundKernel& k = bound_[static_cast<size_t>(index)];
    float* buffers[kMaxArguments];
    double scalars[kMaxArguments];
    check_call(info, k, buffers, scalars);
    Call call{buffers, scalars};
    k.kernel->invoke(*kernels_, runtime_.get(), call);
  }

  const KernelTable* kernels_ = nullptr;
  std::vector<BoundKernel> bound_;
  std::unique_ptr<Runtime> runtime_;
};

/** The ISAs this CPU can run, best first: the bf16 tables, then the float32 ones. */
Napi::Value SupportedIsas(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const char* isa : {"amx", "avx512bf16", "avx512", "avx2", "scalar"}) {
    if (select_kernels(isa) != nullptr) out.Set(i++, Napi::String::New(info.Env(), isa));
  }
  return out;
}

Napi::Value AmxRefused(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), amx_refused()); }

}  // namespace
}  // namespace ks

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Context", ks::Context::Define(env));
  exports.Set("supportedIsas", Napi::Function::New(env, ks::SupportedIsas));
  exports.Set("amxRefused", Napi::Function::New(env, ks::AmxRefused));
  exports.Set("jpegAvailable", Napi::Function::New(env, ks::JpegAvailable));
  exports.Set("readJpegs", Napi::Function::New(env, ks::ReadJpegsBinding));
  return exports;
}

NODE_API_MODULE(kilosecond, Init)
