// @file The Node-API face of the CPU backend: a `Context` (thread pool + scratch + the kernel
// table of one ISA) whose methods run kernels synchronously on Float32Arrays.
//
// This is the memory-safety boundary: every array is checked to be a Float32Array long enough
// for the shape before any kernel touches it, so a wrong shape from JavaScript raises a
// RangeError instead of corrupting memory.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>

#include "kernels.h"
#include "runtime_impl.h"

namespace ks {
namespace {

/** A Float32Array argument: its data and its length, checked against a shape by `need`. */
struct FloatArray {
  float* data;
  int64_t length;
  const char* name;
};

/** Reads the arguments of one call in order, checking each one's type. */
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info) {}

  FloatArray array(const char* name) {
    const Napi::Value v = next();
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env(), std::string(name) + " must be a Float32Array");
    }
    auto a = v.As<Napi::Float32Array>();
    return {a.Data(), static_cast<int64_t>(a.ElementLength()), name};
  }

  /** A non-negative integer argument (a dimension or a length). */
  int64_t size(const char* name) {
    const double d = number(name);
    if (!(d >= 0) || d != std::floor(d) || d > 9.007199254740991e15) {
      throw Napi::RangeError::New(env(), std::string(name) + " must be a non-negative integer");
    }
    return static_cast<int64_t>(d);
  }

  double number(const char* name) {
    const Napi::Value v = next();
    if (!v.IsNumber()) throw Napi::TypeError::New(env(), std::string(name) + " must be a number");
    return v.As<Napi::Number>().DoubleValue();
  }

  bool flag(const char* name) {
    const Napi::Value v = next();
    if (!v.IsBoolean()) throw Napi::TypeError::New(env(), std::string(name) + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }

  /** The data of `a`, after checking that it holds at least `count` floats. */
  float* need(const FloatArray& a, int64_t count) const {
    if (a.length < count) {
      throw Napi::RangeError::New(env(), std::string(a.name) + " holds " + std::to_string(a.length) +
                                             " floats but the shape needs " + std::to_string(count));
    }
    return a.data;
  }

  void require(bool ok, const char* message) const {
    if (!ok) throw Napi::RangeError::New(env(), message);
  }

 private:
  Napi::Env env() const { return info_.Env(); }
  Napi::Value next() { return info_[index_++]; }

  const Napi::CallbackInfo& info_;
  size_t index_ = 0;
};

ConvShape read_conv_shape(Args& a) {
  ConvShape s;
  s.n = a.size("n");
  s.h = a.size("h");
  s.w = a.size("w");
  s.cin = a.size("cin");
  s.cout = a.size("cout");
  return s;
}

/** What a convolution argument holds, which fixes how many floats it needs. */
enum class ConvOperand { kInputActivations, kOutputActivations, kWeights };

int64_t conv_operand_length(ConvOperand operand, const ConvShape& s) {
  switch (operand) {
    case ConvOperand::kInputActivations: return s.n * s.h * s.w * s.cin;
    case ConvOperand::kOutputActivations: return s.n * s.h * s.w * s.cout;
    case ConvOperand::kWeights: return 9 * s.cin * s.cout;
  }
  return 0;
}

using ConvKernel = void (*)(Runtime*, const float*, const float*, float*, const ConvShape&);

/** One convolution entry point: its kernel and the names and contents of its three arrays. */
struct ConvBinding {
  ConvKernel KernelTable::*kernel;
  const char* names[3];
  ConvOperand operands[3];
};

constexpr ConvBinding kConvForward{
    &KernelTable::conv3x3, {"x", "w", "y"},
    {ConvOperand::kInputActivations, ConvOperand::kWeights, ConvOperand::kOutputActivations}};
constexpr ConvBinding kConvBackwardData{
    &KernelTable::conv3x3_backward_data, {"gy", "w", "gx"},
    {ConvOperand::kOutputActivations, ConvOperand::kWeights, ConvOperand::kInputActivations}};
constexpr ConvBinding kConvBackwardFilter{
    &KernelTable::conv3x3_backward_filter, {"x", "gy", "gw"},
    {ConvOperand::kInputActivations, ConvOperand::kOutputActivations, ConvOperand::kWeights}};

// Cross-entropy arguments end with (n, k, smoothing): n rows of k logits.
struct LossShape {
  int64_t n;
  int64_t k;
  float smoothing;
};

LossShape read_loss_shape(Args& a) {
  LossShape s;
  s.n = a.size("n");
  s.k = a.size("k");
  s.smoothing = static_cast<float>(a.number("smoothing"));
  a.require(s.n >= 1 && s.k >= 1, "cross-entropy needs n >= 1 and k >= 1");
  return s;
}

// Batch norm arguments end with (rows, channels, eps, relu).
BatchNormShape read_bn_shape(Args& a) {
  BatchNormShape s;
  s.rows = a.size("rows");
  s.channels = a.size("channels");
  s.eps = static_cast<float>(a.number("eps"));
  s.relu = a.flag("relu");
  a.require(s.rows >= 1, "batch norm needs at least one row");
  return s;
}

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context", {
      InstanceAccessor<&Context::Isa>("isa"),
      InstanceAccessor<&Context::Threads>("threads"),
      InstanceMethod<&Context::ScratchBytes>("scratchBytes"),
      InstanceMethod<&Context::Dispose>("dispose"),
      InstanceMethod<&Context::Conv<kConvForward>>("conv3x3"),
      InstanceMethod<&Context::Conv<kConvBackwardData>>("conv3x3BackwardData"),
      InstanceMethod<&Context::Conv<kConvBackwardFilter>>("conv3x3BackwardFilter"),
      InstanceMethod<&Context::BatchNormTrain>("batchNormTrain"),
      InstanceMethod<&Context::BatchNormEval>("batchNormEval"),
      InstanceMethod<&Context::BatchNormBackward>("batchNormBackward"),
      InstanceMethod<&Context::MaxPool2x2>("maxPool2x2"),
      InstanceMethod<&Context::MaxPool2x2Backward>("maxPool2x2Backward"),
      InstanceMethod<&Context::GlobalMaxPool>("globalMaxPool"),
      InstanceMethod<&Context::GlobalMaxPoolBackward>("globalMaxPoolBackward"),
      InstanceMethod<&Context::Matmul>("matmul"),
      InstanceMethod<&Context::Add>("add"),
      InstanceMethod<&Context::Scale>("scale"),
      InstanceMethod<&Context::CrossEntropy>("crossEntropy"),
      InstanceMethod<&Context::CrossEntropyBackward>("crossEntropyBackward"),
      InstanceMethod<&Context::AccumulateMetrics>("accumulateMetrics"),
      InstanceMethod<&Context::SgdStep>("sgdStep"),
    });
  }

  /**
   * new Context(threads, isa, conv): isa is "scalar" | "avx2" | "avx512" | "" (the best
   * available); conv is "auto" | "direct" | "winograd2" | "winograd4".
   */
  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
    Args a(info);
    const int64_t threads = a.size("threads");
    const std::string isa = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    const std::string conv = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "auto";
    kernels_ = isa.empty() ? best_kernels() : select_kernels(isa.c_str());
    if (kernels_ == nullptr) {
      throw Napi::Error::New(info.Env(), "this CPU cannot run the '" + isa + "' kernels");
    }
    const int algorithm = conv == "direct"      ? kConvDirect
                          : conv == "winograd2" ? kConvWinograd2
                          : conv == "winograd4" ? kConvWinograd4
                                                : kConvAuto;
    if (algorithm == kConvAuto && conv != "auto") {
      throw Napi::Error::New(info.Env(), "unknown convolution algorithm '" + conv + "'");
    }
    runtime_ = std::make_unique<Runtime>(static_cast<int>(threads < 1 ? 1 : (threads > 256 ? 256 : threads)), algorithm);
  }

 private:
  Runtime* rt(const Napi::CallbackInfo& info) {
    if (!runtime_) throw Napi::Error::New(info.Env(), "the CPU backend was disposed");
    return runtime_.get();
  }

  Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kernels_->isa); }
  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), runtime_ ? runtime_->threads() : 0);
  }
  Napi::Value ScratchBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), runtime_ ? static_cast<double>(runtime_->scratch_bytes()) : 0.0);
  }
  void Dispose(const Napi::CallbackInfo&) { runtime_.reset(); }

  // (a, b, out, n, h, w, cin, cout): the three convolutions differ only in the kernel and in what
  // each array holds, which fixes the length it needs.
  template <const ConvBinding& binding>
  void Conv(const Napi::CallbackInfo& info) {
    Args a(info);
    FloatArray arrays[3];
    for (int i = 0; i < 3; i++) arrays[i] = a.array(binding.names[i]);
    const ConvShape s = read_conv_shape(a);
    float* data[3];
    for (int i = 0; i < 3; i++) data[i] = a.need(arrays[i], conv_operand_length(binding.operands[i], s));
    (kernels_->*binding.kernel)(rt(info), data[0], data[1], data[2], s);
  }

  // (x, gamma, beta, y, mean, invstd, runningMean, runningVar, momentum, rows, channels, eps, relu)
  void BatchNormTrain(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), gamma = a.array("gamma"), beta = a.array("beta"),
                     y = a.array("y"), mean = a.array("mean"), invstd = a.array("invstd"),
                     rmean = a.array("runningMean"), rvar = a.array("runningVar");
    const float momentum = static_cast<float>(a.number("momentum"));
    const BatchNormShape s = read_bn_shape(a);
    const int64_t all = s.rows * s.channels, c = s.channels;
    kernels_->batch_norm_train(rt(info), a.need(x, all), a.need(gamma, c), a.need(beta, c), a.need(y, all),
                               a.need(mean, c), a.need(invstd, c), a.need(rmean, c), a.need(rvar, c),
                               momentum, s);
  }

  // (x, gamma, beta, runningMean, runningVar, y, rows, channels, eps, relu)
  void BatchNormEval(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), gamma = a.array("gamma"), beta = a.array("beta"),
                     rmean = a.array("runningMean"), rvar = a.array("runningVar"), y = a.array("y");
    const BatchNormShape s = read_bn_shape(a);
    const int64_t all = s.rows * s.channels, c = s.channels;
    kernels_->batch_norm_eval(rt(info), a.need(x, all), a.need(gamma, c), a.need(beta, c),
                              a.need(rmean, c), a.need(rvar, c), a.need(y, all), s);
  }

  // (x, y, gy, gamma, mean, invstd, gx, ggamma, gbeta, rows, channels, eps, relu)
  void BatchNormBackward(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), y = a.array("y"), gy = a.array("gy"), gamma = a.array("gamma"),
                     mean = a.array("mean"), invstd = a.array("invstd"), gx = a.array("gx"),
                     ggamma = a.array("ggamma"), gbeta = a.array("gbeta");
    const BatchNormShape s = read_bn_shape(a);
    const int64_t all = s.rows * s.channels, c = s.channels;
    kernels_->batch_norm_backward(rt(info), a.need(x, all), a.need(y, all), a.need(gy, all),
                                  a.need(gamma, c), a.need(mean, c), a.need(invstd, c),
                                  a.need(gx, all), a.need(ggamma, c), a.need(gbeta, c), s);
  }

  // (x, y, n, h, w, c)
  void MaxPool2x2(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), y = a.array("y");
    const int64_t n = a.size("n"), h = a.size("h"), w = a.size("w"), c = a.size("c");
    kernels_->max_pool2x2(rt(info), a.need(x, n * h * w * c), a.need(y, n * (h / 2) * (w / 2) * c),
                          n, h, w, c);
  }

  // (x, gy, gx, n, h, w, c)
  void MaxPool2x2Backward(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), gy = a.array("gy"), gx = a.array("gx");
    const int64_t n = a.size("n"), h = a.size("h"), w = a.size("w"), c = a.size("c");
    kernels_->max_pool2x2_backward(rt(info), a.need(x, n * h * w * c),
                                   a.need(gy, n * (h / 2) * (w / 2) * c), a.need(gx, n * h * w * c),
                                   n, h, w, c);
  }

  // (x, y, n, spatial, c)
  void GlobalMaxPool(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), y = a.array("y");
    const int64_t n = a.size("n"), spatial = a.size("spatial"), c = a.size("c");
    a.require(spatial >= 1, "global max pool needs spatial >= 1");
    kernels_->global_max_pool(rt(info), a.need(x, n * spatial * c), a.need(y, n * c), n, spatial, c);
  }

  // (x, gy, gx, n, spatial, c)
  void GlobalMaxPoolBackward(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray x = a.array("x"), gy = a.array("gy"), gx = a.array("gx");
    const int64_t n = a.size("n"), spatial = a.size("spatial"), c = a.size("c");
    a.require(spatial >= 1, "global max pool needs spatial >= 1");
    kernels_->global_max_pool_backward(rt(info), a.need(x, n * spatial * c), a.need(gy, n * c),
                                       a.need(gx, n * spatial * c), n, spatial, c);
  }

  // (a, b, out, m, k, n, transA, transB)
  void Matmul(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray pa = a.array("a"), pb = a.array("b"), out = a.array("out");
    const int64_t m = a.size("m"), k = a.size("k"), n = a.size("n");
    const bool ta = a.flag("transA"), tb = a.flag("transB");
    kernels_->matmul(rt(info), a.need(pa, m * k), a.need(pb, k * n), a.need(out, m * n), m, k, n, ta, tb);
  }

  // (a, b, out, length)
  void Add(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray pa = a.array("a"), pb = a.array("b"), out = a.array("out");
    const int64_t length = a.size("length");
    kernels_->add(rt(info), a.need(pa, length), a.need(pb, length), a.need(out, length), length);
  }

  // (a, alpha, out, length)
  void Scale(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray pa = a.array("a");
    const float alpha = static_cast<float>(a.number("alpha"));
    const FloatArray out = a.array("out");
    const int64_t length = a.size("length");
    kernels_->scale(rt(info), a.need(pa, length), alpha, a.need(out, length), length);
  }

  // (logits, labels, probs, loss, n, k, smoothing)
  void CrossEntropy(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray logits = a.array("logits"), labels = a.array("labels"), probs = a.array("probs"),
                     loss = a.array("loss");
    const auto [n, k, smoothing] = read_loss_shape(a);
    kernels_->cross_entropy(rt(info), a.need(logits, n * k), a.need(labels, n), a.need(probs, n * k),
                            a.need(loss, 1), n, k, smoothing);
  }

  // (probs, labels, gloss, glogits, n, k, smoothing)
  void CrossEntropyBackward(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray probs = a.array("probs"), labels = a.array("labels"), gloss = a.array("gloss"),
                     glogits = a.array("glogits");
    const auto [n, k, smoothing] = read_loss_shape(a);
    kernels_->cross_entropy_backward(rt(info), a.need(probs, n * k), a.need(labels, n), a.need(gloss, 1),
                                     a.need(glogits, n * k), n, k, smoothing);
  }

  // (logits, labels, stats, n, k)
  void AccumulateMetrics(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray logits = a.array("logits"), labels = a.array("labels"), stats = a.array("stats");
    const int64_t n = a.size("n"), k = a.size("k");
    a.require(k >= 1, "metrics need k >= 1");
    kernels_->accumulate_metrics(rt(info), a.need(logits, n * k), a.need(labels, n), a.need(stats, 2), n, k);
  }

  // (param, grad, velocity, length, lr, momentum, weightDecay, nesterov)
  void SgdStep(const Napi::CallbackInfo& info) {
    Args a(info);
    const FloatArray param = a.array("param"), grad = a.array("grad"), velocity = a.array("velocity");
    const int64_t length = a.size("length");
    SgdHyper h;
    h.lr = static_cast<float>(a.number("lr"));
    h.momentum = static_cast<float>(a.number("momentum"));
    h.weight_decay = static_cast<float>(a.number("weightDecay"));
    h.nesterov = a.flag("nesterov");
    kernels_->sgd_step(rt(info), a.need(param, length), a.need(grad, length), a.need(velocity, length),
                       length, h);
  }

  const KernelTable* kernels_ = nullptr;
  std::unique_ptr<Runtime> runtime_;
};

/** The ISAs this CPU can run, best first (the first is the default). */
Napi::Value SupportedIsas(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const char* isa : {"avx512", "avx2", "scalar"}) {
    if (select_kernels(isa) != nullptr) out.Set(i++, Napi::String::New(info.Env(), isa));
  }
  return out;
}

}  // namespace
}  // namespace ks

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Context", ks::Context::Define(env));
  exports.Set("supportedIsas", Napi::Function::New(env, ks::SupportedIsas));
  return exports;
}

NODE_API_MODULE(kilosecond, Init)
