// Attaching programs to devices (XDP, tc clsact) and running them on test input
// (BPF_PROG_TEST_RUN). Attach replaces whatever program sits on the same hook, so a
// restarted agent that finds its old programs attached simply takes over; detach of
// something that is not there succeeds.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <utility>
#include <vector>

#include "addon.h"

namespace cillion {

namespace {

Napi::Object Opts(const Napi::CallbackInfo &info, size_t i) {
  return info.Length() > i && info[i].IsObject() ? info[i].As<Napi::Object>() : Napi::Object::New(info.Env());
}

// 0 when the caller named no mode: detach then removes whichever is attached.
uint32_t XdpMode(const Napi::Object &opts) {
  std::string mode = OptionalString(opts, "mode");
  if (mode == "generic") return XDP_FLAGS_SKB_MODE;
  if (mode == "native") return XDP_FLAGS_DRV_MODE;
  return 0;
}

// Removes the XDP programs attached in `modes` (XDP_FLAGS_*_MODE bits), or in every mode.
int XdpDetach(int ifindex, uint32_t modes) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  int rc = bpf_xdp_query(ifindex, 0, &q);
  if (rc < 0) return rc;
  const std::pair<uint32_t, uint32_t> attached[] = {
      {XDP_FLAGS_DRV_MODE, q.drv_prog_id}, {XDP_FLAGS_SKB_MODE, q.skb_prog_id}, {XDP_FLAGS_HW_MODE, q.hw_prog_id}};
  for (const auto &[mode, id] : attached) {
    if (id == 0 || (modes != 0 && (modes & mode) == 0)) continue;
    rc = bpf_xdp_detach(ifindex, mode, nullptr);
    if (rc < 0) return rc;
  }
  return 0;
}

// attachXdp(progFd, ifindex, { mode?, netns? })
Napi::Value AttachXdp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  Napi::Object opts = Opts(info, 2);
  uint32_t mode = XdpMode(opts) == XDP_FLAGS_SKB_MODE ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  int rc = InNetns(env, OptionalString(opts, "netns"), [&] {
    // The kernel keeps one mode per device: a program in the other mode must go first.
    int err = XdpDetach(ifindex, mode == XDP_FLAGS_DRV_MODE ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
    return err < 0 ? err : bpf_xdp_attach(ifindex, fd, mode, nullptr);
  });
  if (rc < 0) Throw(env, "ATTACH_FAILED", "XDP attach to ifindex " + std::to_string(ifindex), -rc);
  return env.Undefined();
}

// detachXdp(ifindex, { mode?, netns? })
Napi::Value DetachXdp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  Napi::Object opts = Opts(info, 1);
  int rc = InNetns(env, OptionalString(opts, "netns"), [&] { return XdpDetach(ifindex, XdpMode(opts)); });
  if (rc < 0 && rc != -ENODEV) Throw(env, "DETACH_FAILED", "XDP detach from ifindex " + std::to_string(ifindex), -rc);
  return env.Undefined();
}

bpf_tc_attach_point Direction(Napi::Env env, const Napi::Value &v) {
  std::string d = v.As<Napi::String>().Utf8Value();
  if (d == "ingress") return BPF_TC_INGRESS;
  if (d == "egress") return BPF_TC_EGRESS;
  Throw(env, "BAD_SIZE", "tc direction must be ingress or egress, got " + d);
}

// attachTc(progFd, ifindex, direction, { handle?, priority?, netns? })
Napi::Value AttachTc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  bpf_tc_attach_point point = Direction(env, info[2]);
  Napi::Object opts = Opts(info, 3);
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
  LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = fd, .flags = BPF_TC_F_REPLACE, .handle = OptionalUint(opts, "handle", 1),
              .priority = OptionalUint(opts, "priority", 1));
  int rc = InNetns(env, OptionalString(opts, "netns"), [&] {
    int err;
    {
      // An existing clsact qdisc is expected; keep libbpf from printing the kernel's notice.
      LibbpfCapture quiet;
      err = bpf_tc_hook_create(&hook);
    }
    if (err < 0 && err != -EEXIST) return err;
    return bpf_tc_attach(&hook, &tc);
  });
  if (rc < 0) Throw(env, "ATTACH_FAILED", "tc attach to ifindex " + std::to_string(ifindex), -rc);
  return env.Undefined();
}

// detachTc(ifindex, direction, { handle?, priority?, netns? })
Napi::Value DetachTc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  bpf_tc_attach_point point = Direction(env, info[1]);
  Napi::Object opts = Opts(info, 2);
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
  LIBBPF_OPTS(bpf_tc_opts, tc, .handle = OptionalUint(opts, "handle", 1), .priority = OptionalUint(opts, "priority", 1));
  int rc = InNetns(env, OptionalString(opts, "netns"), [&] {
    // The kernel names a missing filter ENOENT and a missing clsact hook EINVAL.
    LibbpfCapture quiet;
    return bpf_tc_detach(&hook, &tc);
  });
  if (rc < 0 && rc != -ENOENT && rc != -EINVAL && rc != -ENODEV) {
    Throw(env, "DETACH_FAILED", "tc detach from ifindex " + std::to_string(ifindex), -rc);
  }
  return env.Undefined();
}

// testRun(progFd, data, { repeat?, ctx?, dataOutSize?, flags?, batchSize?, netns? })
//   -> { retval, data, durationNs }
Napi::Value TestRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto data = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::Object opts = Opts(info, 2);
  uint32_t flags = OptionalUint(opts, "flags", 0);
  // Live XDP frames go out for real; the kernel returns no data for them.
  bool live = (flags & BPF_F_TEST_XDP_LIVE_FRAMES) != 0;
  std::vector<uint8_t> out(live ? 0 : OptionalUint(opts, "dataOutSize", data.Length() + 1024));
  std::vector<uint8_t> ctx;
  if (opts.Has("ctx") && opts.Get("ctx").IsBuffer()) {
    auto c = opts.Get("ctx").As<Napi::Buffer<uint8_t>>();
    ctx.assign(c.Data(), c.Data() + c.Length());
  }
  LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = data.Data(), .data_out = out.empty() ? nullptr : out.data(),
              .data_size_in = static_cast<__u32>(data.Length()), .data_size_out = static_cast<__u32>(out.size()),
              .ctx_in = ctx.empty() ? nullptr : ctx.data(), .ctx_size_in = static_cast<__u32>(ctx.size()),
              .repeat = static_cast<int>(OptionalUint(opts, "repeat", 1)), .flags = flags,
              .batch_size = OptionalUint(opts, "batchSize", 0));
  int rc = InNetns(env, OptionalString(opts, "netns"), [&] { return bpf_prog_test_run_opts(fd, &run) < 0 ? -errno : 0; });
  if (rc < 0) Throw(env, "TEST_RUN_FAILED", "BPF_PROG_TEST_RUN", -rc);
  Napi::Object res = Napi::Object::New(env);
  res.Set("retval", run.retval);
  res.Set("durationNs", run.duration);
  res.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), std::min<size_t>(run.data_size_out, out.size())));
  return res;
}

// runSyscall(progFd, ctx) -> { retval, ctx }: a BPF_PROG_TYPE_SYSCALL program run once on
// `ctx`, which the kernel hands back as the program left it. Such a run takes no packet,
// repeat or flags (the kernel refuses them), hence its own call.
Napi::Value RunSyscall(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto c = info[1].As<Napi::Buffer<uint8_t>>();
  std::vector<uint8_t> ctx(c.Data(), c.Data() + c.Length());
  LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = ctx.empty() ? nullptr : ctx.data(), .ctx_size_in = static_cast<__u32>(ctx.size()));
  if (bpf_prog_test_run_opts(fd, &run) < 0) Throw(env, "TEST_RUN_FAILED", "BPF_PROG_TEST_RUN (syscall)", errno);
  Napi::Object res = Napi::Object::New(env);
  res.Set("retval", static_cast<int32_t>(run.retval));
  res.Set("ctx", Napi::Buffer<uint8_t>::Copy(env, ctx.data(), ctx.size()));
  return res;
}

}  // namespace

void InitPrograms(Napi::Env env, Napi::Object exports) {
  exports.Set("attachXdp", Napi::Function::New(env, AttachXdp));
  exports.Set("detachXdp", Napi::Function::New(env, DetachXdp));
  exports.Set("attachTc", Napi::Function::New(env, AttachTc));
  exports.Set("detachTc", Napi::Function::New(env, DetachTc));
  exports.Set("testRun", Napi::Function::New(env, TestRun));
  exports.Set("runSyscall", Napi::Function::New(env, RunSyscall));
}

}  // namespace cillion
