// Module entry: registers every function of the addon, and the helpers they share.
#include "addon.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>

namespace cillion {

Netns::Netns(Napi::Env env, const std::string &path) : env_(env) {
  if (path.empty()) return;
  saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0) Throw(env, "NETNS_FAILED", "cannot open this thread's network namespace", errno);
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(saved_);
    saved_ = -1;
    Throw(env, "NETNS_FAILED", "cannot open network namespace " + path, err);
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  close(target);
  if (rc != 0) {
    close(saved_);
    saved_ = -1;
    Throw(env, "NETNS_FAILED", "cannot enter network namespace " + path, err);
  }
}

void Netns::Leave() {
  if (saved_ < 0) return;
  int rc = setns(saved_, CLONE_NEWNET);
  int err = errno;
  close(saved_);
  saved_ = -1;
  if (rc != 0) Throw(env_, "NETNS_FAILED", "cannot return to the original network namespace", err);
}

// Reached with the namespace still entered only if `op` threw, which the callers rule out;
// should it happen anyway, returning matters more than reporting.
Netns::~Netns() {
  if (saved_ < 0) return;
  if (setns(saved_, CLONE_NEWNET) != 0) abort();
  close(saved_);
}

namespace {
thread_local LibbpfCapture *active_capture = nullptr;
}

LibbpfCapture::LibbpfCapture() : previous_(libbpf_set_print(Print)) { active_capture = this; }

LibbpfCapture::~LibbpfCapture() {
  active_capture = nullptr;
  libbpf_set_print(previous_);
}

int LibbpfCapture::Print(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (active_capture == nullptr || level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), fmt, args);
  if (n > 0) active_capture->text_.append(line, std::min<size_t>(n, sizeof(line) - 1));
  return n;
}

std::string OptionalString(const Napi::Object &opts, const char *key) {
  if (!opts.Has(key)) return "";
  Napi::Value v = opts.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
}

uint32_t OptionalUint(const Napi::Object &opts, const char *key, uint32_t fallback) {
  if (!opts.Has(key)) return fallback;
  Napi::Value v = opts.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

}  // namespace cillion

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  cillion::InitObject(env, exports);
  cillion::InitPrograms(env, exports);
  cillion::InitMaps(env, exports);
  cillion::InitRing(env, exports);
  return exports;
}

NODE_API_MODULE(cillion_bpf, InitAll)
