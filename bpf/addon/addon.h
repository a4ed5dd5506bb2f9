// The native addon's shared declarations: errors with stable codes, the network
// namespace guard, and each file's registration function.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <string>

namespace cillion {

// Throws a JS Error carrying .code (stable, see bpf/native.ts) and .errno.
[[noreturn]] inline void Throw(Napi::Env env, const char *code, const std::string &message, int err = 0) {
  std::string text = message;
  if (err != 0) text += std::string(": ") + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, text);
  e.Set("code", Napi::String::New(env, code));
  if (err != 0) e.Set("errno", Napi::Number::New(env, err));
  throw e;
}

// Runs `op` inside the network namespace at `path` (an empty path: where we are) on the
// calling thread only, then returns to the original namespace. `op` makes plain C calls
// and reports failure through its result, so the way back is always taken. If the way
// back fails the thread is still in the other namespace: that throws NETNS_FAILED.
class Netns {
 public:
  Netns(Napi::Env env, const std::string &path);
  ~Netns();
  Netns(const Netns &) = delete;
  Netns &operator=(const Netns &) = delete;
  void Leave();

 private:
  Napi::Env env_;
  int saved_ = -1;
};

template <typename F>
auto InNetns(Napi::Env env, const std::string &path, F op) -> decltype(op()) {
  Netns ns(env, path);
  auto result = op();
  ns.Leave();
  return result;
}

// Collects libbpf's messages while it lives, so a failure can say what the kernel said
// and expected noise (an existing clsact qdisc) does not reach stderr.
class LibbpfCapture {
 public:
  LibbpfCapture();
  ~LibbpfCapture();
  LibbpfCapture(const LibbpfCapture &) = delete;
  LibbpfCapture &operator=(const LibbpfCapture &) = delete;
  std::string Tail(size_t n) const { return text_.size() <= n ? text_ : "..." + text_.substr(text_.size() - n); }

 private:
  static int Print(enum libbpf_print_level level, const char *fmt, va_list args);
  std::string text_;
  libbpf_print_fn_t previous_;
};

std::string OptionalString(const Napi::Object &opts, const char *key);
uint32_t OptionalUint(const Napi::Object &opts, const char *key, uint32_t fallback);

void InitObject(Napi::Env env, Napi::Object exports);
void InitPrograms(Napi::Env env, Napi::Object exports);
void InitMaps(Napi::Env env, Napi::Object exports);
void InitRing(Napi::Env env, Napi::Object exports);

}  // namespace cillion
