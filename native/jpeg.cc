// @file JPEG files decoded straight to the network's input size, for folders of photos.
//
// libjpeg-turbo decodes each file already shrunk in the DCT domain (scale M/8: a 256x256 photo
// comes out as 32x32 without ever existing at full size), as libvips does for sharp; the few
// pixels left are oriented by EXIF, cropped or squashed and resampled to the square here (with
// Lanczos-3, as libvips does). The library is the system's (Debian: libjpeg62-turbo), opened at
// run time with dlopen, so the addon loads where it is missing: the caller then decodes with
// sharp. Files this path does not decode exactly as sharp would (CMYK, an ICC profile other than
// sRGB, smaller than the input, any libjpeg warning such as a truncated file) are left to sharp
// too, which decodes them or names what is wrong.
//
// `readJpegs(paths, size, channels, stretch)` runs on the libuv thread pool and resolves to
// { headers: Int32Array(5n) [decoded, width, height, components, orientation] per file, pixels:
// Uint8Array(n * size * size * channels) }; size 0 reads headers only.
#include <napi.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if __has_include(<jpeglib.h>)
#include <jpeglib.h>
#define KS_HAVE_JPEGLIB 1
#endif

namespace ks {
namespace {

struct Target {
  int size = 0;  // 0: headers only
  int channels = 3;
  bool stretch = false;
};

/** As stored in the file; `orientation` is EXIF's 1..8 (1 when there is none). */
struct Header {
  int width = 0;
  int height = 0;
  int components = 0;
  int orientation = 1;
};

#ifdef KS_HAVE_JPEGLIB

#if JPEG_LIB_VERSION == 62
constexpr const char* kSoname = "libjpeg.so.62";
#elif JPEG_LIB_VERSION == 70
constexpr const char* kSoname = "libjpeg.so.7";
#else
constexpr const char* kSoname = "libjpeg.so.8";
#endif

/** The libjpeg entry points used here, from the library this addon was compiled against. */
struct Api {
  decltype(&jpeg_std_error) std_error = nullptr;
  decltype(&jpeg_CreateDecompress) create = nullptr;
  decltype(&jpeg_destroy_decompress) destroy = nullptr;
  decltype(&jpeg_stdio_src) stdio_src = nullptr;
  decltype(&jpeg_save_markers) save_markers = nullptr;
  decltype(&jpeg_read_header) read_header = nullptr;
  decltype(&jpeg_calc_output_dimensions) calc_output_dimensions = nullptr;
  decltype(&jpeg_start_decompress) start = nullptr;
  decltype(&jpeg_read_scanlines) read_scanlines = nullptr;
  decltype(&jpeg_finish_decompress) finish = nullptr;
};

/** Null when the library is not on this machine (or lacks a function): sharp decodes everything then. */
const Api* OpenApi() {
  static const Api* api = []() -> const Api* {
    void* lib = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return nullptr;
    static Api a;
    bool found = true;
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      found = found && fn != nullptr;
    };
    bind(a.std_error, "jpeg_std_error");
    bind(a.create, "jpeg_CreateDecompress");
    bind(a.destroy, "jpeg_destroy_decompress");
    bind(a.stdio_src, "jpeg_stdio_src");
    bind(a.save_markers, "jpeg_save_markers");
    bind(a.read_header, "jpeg_read_header");
    bind(a.calc_output_dimensions, "jpeg_calc_output_dimensions");
    bind(a.start, "jpeg_start_decompress");
    bind(a.read_scanlines, "jpeg_read_scanlines");
    bind(a.finish, "jpeg_finish_decompress");
    return found ? &a : nullptr;
  }();
  return api;
}

/** libjpeg's error manager, extended: errors jump back to the decoder, warnings are remembered. */
struct Errors {
  jpeg_error_mgr mgr;  // first, so that libjpeg's pointer to it is a pointer to this
  std::jmp_buf jump;
  bool warned;
};

[[noreturn]] void OnError(j_common_ptr c) { std::longjmp(reinterpret_cast<Errors*>(c->err)->jump, 1); }
void OnMessage(j_common_ptr c, int level) {
  if (level < 0) reinterpret_cast<Errors*>(c->err)->warned = true;
}
void Quiet(j_common_ptr) {}

uint16_t Read16(const uint8_t* p, bool little) { return little ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
uint32_t Read32(const uint8_t* p, bool little) {
  return little ? p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24 : uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/** The Orientation tag (0x0112) of an APP1 Exif block's first IFD; 1 when absent or malformed. */
int ExifOrientation(const uint8_t* data, size_t length) {
  if (length < 14 || std::memcmp(data, "Exif\0\0", 6) != 0) return 1;
  const uint8_t* tiff = data + 6;
  const size_t size = length - 6;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  const uint32_t ifd = Read32(tiff + 4, little);
  if (ifd > size - 2) return 1;
  const unsigned entries = Read16(tiff + ifd, little);
  for (unsigned e = 0; e < entries; e++) {
    const size_t at = ifd + 2 + size_t(e) * 12;
    if (at + 12 > size) return 1;
    if (Read16(tiff + at, little) != 0x0112) continue;
    const unsigned value = Read16(tiff + at + 8, little);  // a SHORT, left-justified in the value field
    return value >= 1 && value <= 8 ? int(value) : 1;
  }
  return 1;
}

/**
 * Whether the file carries an ICC profile other than sRGB: libvips would convert its colours to
 * sRGB, which this path does not. A profile whose description names sRGB (most photos' profile,
 * and the one sharp writes) converts to itself, so it is decoded here.
 */
bool HasForeignProfile(const jpeg_decompress_struct& cinfo) {
  static constexpr char kIcc[] = "ICC_PROFILE";  // with its terminating zero: 12 bytes
  // The description is ASCII in version 2 profiles, UTF-16BE ('mluc') in version 4 ones.
  static constexpr char kSrgb[] = "sRGB";
  static constexpr char kWideSrgb[] = {0, 's', 0, 'R', 0, 'G', 0, 'B'};
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker != JPEG_APP0 + 2 || m->data_length < sizeof kIcc || std::memcmp(m->data, kIcc, sizeof kIcc) != 0) continue;
    const char* text = reinterpret_cast<const char*>(m->data);
    const char* end = text + m->data_length;
    const bool srgb = std::search(text + sizeof kIcc, end, kSrgb, kSrgb + 4) != end ||
                      std::search(text + sizeof kIcc, end, kWideSrgb, kWideSrgb + 8) != end;
    if (!srgb) return true;
  }
  return false;
}

int OrientationOf(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1) return ExifOrientation(m->data, m->data_length);
  }
  return 1;
}

/** sRGB value -> linear light, and the linear light halfway between each value and the next. */
struct Luminance {
  float linear[256];
  float halfway[255];
  Luminance() {
    auto to_linear = [](double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
    for (int v = 0; v < 256; v++) linear[v] = float(to_linear(v / 255.0));
    for (int v = 0; v < 255; v++) halfway[v] = float(to_linear((v + 0.5) / 255.0));
  }
  /** One grey value as libvips makes 'b-w' from sRGB: Rec. 709 luminance of the linear light, encoded back (rounded). */
  uint8_t operator()(const uint8_t* rgb) const {
    const float y = 0.2126f * linear[rgb[0]] + 0.7152f * linear[rgb[1]] + 0.0722f * linear[rgb[2]];
    return uint8_t(std::upper_bound(halfway, halfway + 255, y) - halfway);
  }
};

/** The Lanczos-3 kernel, which libvips resamples with for sharp. */
double Lanczos3(double x) {
  x = std::fabs(x);
  if (x < 1e-9) return 1;
  if (x >= 3) return 0;
  const double px = 3.14159265358979323846 * x;
  return 3 * std::sin(px) * std::sin(px / 3) / (px * px);
}

/**
 * Lanczos-3 taps for shrinking `source` pixels to `target`: output i is centred on source
 * (i + 0.5) * source / target and reaches 3 source / target either side, its weights cut at the
 * edges and normalised.
 */
struct Taps {
  std::vector<int> first, count;
  std::vector<float> weight;
  void Make(int source, int target) {
    const double scale = std::max(1.0, double(source) / target), support = 3 * scale;
    first.resize(target);
    count.resize(target);
    weight.clear();
    for (int i = 0; i < target; i++) {
      const double centre = (i + 0.5) * source / target;
      const int lo = std::max(0, int(std::floor(centre - support))), hi = std::min(source, int(std::ceil(centre + support)));
      const size_t at = weight.size();
      double sum = 0;
      for (int s = lo; s < hi; s++) {
        const double w = Lanczos3((s + 0.5 - centre) / scale);
        weight.push_back(float(w));
        sum += w;
      }
      for (size_t k = at; k < weight.size(); k++) weight[k] = float(weight[k] / sum);
      first[i] = lo;
      count[i] = hi - lo;
    }
  }
};

uint8_t Round(float v) { return uint8_t(std::clamp(v, 0.0f, 255.0f) + 0.5f); }

/** Decodes files one after another, reusing its buffers. */
class Decoder {
 public:
  explicit Decoder(const Api& api) : api_(api) {}

  /** True when `out` (or, for size 0, `header`) holds the file's result; false: leave it to sharp. */
  bool Run(const std::string& path, const Target& t, Header& header, uint8_t* out) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return false;
    jpeg_decompress_struct cinfo;
    std::memset(&cinfo, 0, sizeof cinfo);
    Errors errors;
    cinfo.err = api_.std_error(&errors.mgr);
    errors.mgr.error_exit = OnError;
    errors.mgr.emit_message = OnMessage;
    errors.mgr.output_message = Quiet;
    errors.warned = false;
    // libjpeg's longjmp skips only its own C frames and Decode's, which holds nothing with a destructor
    // (as a throw would need); of the locals, only `done` is assigned after setjmp and read after a jump.
    volatile bool done = false;
    if (setjmp(errors.jump) == 0) {
      api_.create(&cinfo, JPEG_LIB_VERSION, sizeof cinfo);
      api_.stdio_src(&cinfo, file);
      done = Decode(cinfo, t, header, out);
    }
    api_.destroy(&cinfo);
    std::fclose(file);
    return done && !errors.warned;
  }

 private:
  bool Decode(jpeg_decompress_struct& cinfo, const Target& t, Header& h, uint8_t* out) {
    api_.save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    api_.save_markers(&cinfo, JPEG_APP0 + 2, 0xffff);
    if (api_.read_header(&cinfo, TRUE) != JPEG_HEADER_OK) return false;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
      h.components = 1;
    } else if (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB) {
      h.components = 3;
    } else {
      return false;
    }
    if (HasForeignProfile(cinfo)) return false;
    h.width = int(cinfo.image_width);
    h.height = int(cinfo.image_height);
    h.orientation = OrientationOf(cinfo);
    if (t.size == 0) return true;

    const bool turned = h.orientation >= 5;
    const int n = t.size;
    cinfo.out_color_space = h.components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    // As libvips for sharp: the smallest DCT scale (1/8, 1/4, 1/2) that leaves at least twice the
    // input side (square, or both sides for stretch) for Lanczos to shrink; else the full size.
    auto covers = [&](int m, int side) {
      cinfo.scale_num = unsigned(m);
      cinfo.scale_denom = 8;
      api_.calc_output_dimensions(&cinfo);
      const int w = int(turned ? cinfo.output_height : cinfo.output_width), hh = int(turned ? cinfo.output_width : cinfo.output_height);
      return t.stretch ? w >= side && hh >= side : std::min(w, hh) >= side;
    };
    int m = 1;
    while (m < 8 && !covers(m, 2 * n)) m *= 2;
    if (m == 8 && !covers(8, n)) return false;  // enlarging: sharp does that
    const int sw = int(cinfo.output_width), sh = int(cinfo.output_height), c = h.components;
    stored_.resize(size_t(sw) * sh * c);
    api_.start(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = &stored_[size_t(cinfo.output_scanline) * sw * c];
      api_.read_scanlines(&cinfo, &row, 1);
    }
    api_.finish(&cinfo);
    Orient(sw, sh, c, h.orientation);
    Resample(turned ? sh : sw, turned ? sw : sh, c, t, out);
    return true;
  }

  /** `shown_`: the stored pixels turned and mirrored as EXIF says the photo is shown. */
  void Orient(int w, int h, int c, int orientation) {
    if (orientation == 1) {
      shown_.swap(stored_);
      return;
    }
    const bool turned = orientation >= 5;
    const int ow = turned ? h : w, oh = turned ? w : h;
    shown_.resize(stored_.size());
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        int sx = x, sy = y;
        switch (orientation) {
          case 2: sx = w - 1 - x; break;
          case 3: sx = w - 1 - x; sy = h - 1 - y; break;
          case 4: sy = h - 1 - y; break;
          case 5: sx = y; sy = x; break;
          case 6: sx = y; sy = h - 1 - x; break;
          case 7: sx = w - 1 - y; sy = h - 1 - x; break;
          case 8: sx = w - 1 - y; sy = x; break;
        }
        std::memcpy(&shown_[(size_t(y) * ow + x) * c], &stored_[(size_t(sy) * w + sx) * c], c);
      }
    }
  }

  /** The centre square (crop) or the whole of `shown_` (w x h x c), resampled to size x size x t.channels. */
  void Resample(int w, int h, int c, const Target& t, uint8_t* out) {
    const int n = t.size;
    const int rw = t.stretch ? w : std::min(w, h), rh = t.stretch ? h : rw;
    const int x0 = (w - rw) / 2, y0 = (h - rh) / 2;
    columns_.Make(rw, n);
    rows_.Make(rh, n);
    // Along each row first, then down the columns.
    across_.assign(size_t(rh) * n * c, 0.0f);
    for (int y = 0; y < rh; y++) {
      const uint8_t* src = &shown_[(size_t(y0 + y) * w + x0) * c];
      float* dst = &across_[size_t(y) * n * c];
      for (int x = 0, k = 0; x < n; x++) {
        for (int j = 0; j < columns_.count[x]; j++, k++) {
          const uint8_t* p = src + size_t(columns_.first[x] + j) * c;
          for (int ch = 0; ch < c; ch++) dst[x * c + ch] += columns_.weight[k] * p[ch];
        }
      }
    }
    pixels_.resize(size_t(n) * n * c);
    for (int y = 0, k0 = 0; y < n; y++) {
      for (int i = 0; i < n * c; i++) {
        float v = 0;
        for (int j = 0; j < rows_.count[y]; j++) v += rows_.weight[k0 + j] * across_[size_t(rows_.first[y] + j) * n * c + i];
        pixels_[size_t(y) * n * c + i] = Round(v);
      }
      k0 += rows_.count[y];
    }
    static const Luminance luminance;
    const size_t count = size_t(n) * n;
    for (size_t p = 0; p < count; p++) {
      if (t.channels == c) {
        std::memcpy(out + p * c, &pixels_[p * c], c);
      } else if (t.channels == 3) {
        std::memset(out + p * 3, pixels_[p], 3);
      } else {
        out[p] = luminance(&pixels_[p * 3]);
      }
    }
  }

  const Api& api_;
  std::vector<uint8_t> stored_, shown_, pixels_;
  std::vector<float> across_;
  Taps columns_, rows_;
};

#endif  // KS_HAVE_JPEGLIB

class ReadJpegs : public Napi::AsyncWorker {
 public:
  ReadJpegs(Napi::Env env, std::vector<std::string> paths, Target target)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), paths_(std::move(paths)), target_(target),
        headers_(paths_.size() * 5, 0), pixels_(paths_.size() * RecordBytes(), 0) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
#ifdef KS_HAVE_JPEGLIB
    const Api* api = OpenApi();
    if (!api) return;
    Decoder decoder(*api);
    for (size_t i = 0; i < paths_.size(); i++) {
      Header h;
      const bool decoded = decoder.Run(paths_[i], target_, h, &pixels_[i * RecordBytes()]);
      const int32_t row[5] = {decoded, h.width, h.height, h.components, h.orientation};
      std::copy(row, row + 5, &headers_[i * 5]);
    }
#endif
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    auto headers = Napi::Int32Array::New(env, headers_.size());
    std::copy(headers_.begin(), headers_.end(), headers.Data());
    auto pixels = Napi::Uint8Array::New(env, pixels_.size());
    std::copy(pixels_.begin(), pixels_.end(), pixels.Data());
    result.Set("headers", headers);
    result.Set("pixels", pixels);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  size_t RecordBytes() const { return size_t(target_.size) * target_.size * target_.channels; }

  Napi::Promise::Deferred deferred_;
  std::vector<std::string> paths_;
  Target target_;
  std::vector<int32_t> headers_;
  std::vector<uint8_t> pixels_;
};

}  // namespace

/** Whether readJpegs decodes anything here: the addon was built with jpeglib.h and the library opens. */
Napi::Value JpegAvailable(const Napi::CallbackInfo& info) {
#ifdef KS_HAVE_JPEGLIB
  return Napi::Boolean::New(info.Env(), OpenApi() != nullptr);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value ReadJpegsBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsArray() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsBoolean()) {
    throw Napi::TypeError::New(env, "readJpegs(paths: string[], size: number, channels: 1 | 3, stretch: boolean)");
  }
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<std::string> paths(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "readJpegs: every path must be a string");
    paths[i] = v.As<Napi::String>().Utf8Value();
  }
  Target t;
  t.size = info[1].As<Napi::Number>().Int32Value();
  t.channels = info[2].As<Napi::Number>().Int32Value();
  t.stretch = info[3].As<Napi::Boolean>().Value();
  if (t.size < 0 || t.size > 4096 || (t.channels != 1 && t.channels != 3)) {
    throw Napi::RangeError::New(env, "readJpegs: size must be 0..4096 and channels 1 or 3");
  }
  auto* worker = new ReadJpegs(env, std::move(paths), t);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace ks
