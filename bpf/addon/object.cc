// Opening and loading a BPF object file: CO-RE relocation against the running kernel's
// BTF, maps pinned by name under a directory (and reused when already pinned there),
// `const volatile` tunables set before load. The verifier's complaint ends up in the
// thrown error instead of on stderr.
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cstdarg>
#include <vector>

#include "addon.h"

namespace cillion {

namespace {

// Writes `value` over the .rodata variable `name`; the object must not be loaded yet.
void SetConst(Napi::Env env, bpf_object *obj, const std::string &name, const Napi::Buffer<uint8_t> &value) {
  const btf *b = bpf_object__btf(obj);
  bpf_map *rodata = nullptr;
  bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    const char *n = bpf_map__name(m);
    size_t len = strlen(n);
    if (bpf_map__is_internal(m) && len >= 7 && strcmp(n + len - 7, ".rodata") == 0) rodata = m;
  }
  if (b == nullptr || rodata == nullptr) Throw(env, "OPEN_FAILED", "object has no .rodata to set " + name + " in");
  int sec_id = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) Throw(env, "OPEN_FAILED", "no .rodata section in the object's BTF");
  const btf_type *sec = btf__type_by_id(b, sec_id);
  const btf_var_secinfo *vars = btf_var_secinfos(sec);
  size_t size = 0;
  const auto *initial = static_cast<const uint8_t *>(bpf_map__initial_value(rodata, &size));
  if (initial == nullptr) Throw(env, "OPEN_FAILED", ".rodata has no initial value");
  std::vector<uint8_t> data(initial, initial + size);
  for (int i = 0; i < btf_vlen(sec); i++) {
    const btf_type *var = btf__type_by_id(b, vars[i].type);
    if (name != btf__name_by_offset(b, var->name_off)) continue;
    if (vars[i].size != value.Length()) {
      Throw(env, "BAD_SIZE", name + " is " + std::to_string(vars[i].size) + " bytes, got " + std::to_string(value.Length()));
    }
    if (vars[i].offset + vars[i].size > size) Throw(env, "OPEN_FAILED", name + " lies outside .rodata");
    memcpy(data.data() + vars[i].offset, value.Data(), value.Length());
    if (bpf_map__set_initial_value(rodata, data.data(), data.size()) != 0) {
      Throw(env, "OPEN_FAILED", "cannot set .rodata", errno);
    }
    return;
  }
  Throw(env, "OPEN_FAILED", "no const volatile variable " + name);
}

class BpfObjectWrap : public Napi::ObjectWrap<BpfObjectWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpfObject",
                       {InstanceMethod("programs", &BpfObjectWrap::Programs), InstanceMethod("maps", &BpfObjectWrap::Maps),
                        InstanceMethod("close", &BpfObjectWrap::Close)});
  }

  // new BpfObject(file, { pinRoot?, consts? })
  explicit BpfObjectWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<BpfObjectWrap>(info) {
    Napi::Env env = info.Env();
    std::string file = info[0].As<Napi::String>().Utf8Value();
    Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    std::string pin_root = OptionalString(opts, "pinRoot");
    LibbpfCapture log;
    LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_root.empty() ? nullptr : pin_root.c_str());
    obj_ = bpf_object__open_file(file.c_str(), &open_opts);
    if (obj_ == nullptr) Throw(env, "OPEN_FAILED", "cannot open " + file + "\n" + log.Tail(2000), errno);
    try {
      if (opts.Has("consts") && opts.Get("consts").IsObject()) {
        Napi::Object consts = opts.Get("consts").As<Napi::Object>();
        Napi::Array names = consts.GetPropertyNames();
        for (uint32_t i = 0; i < names.Length(); i++) {
          std::string n = names.Get(i).As<Napi::String>().Utf8Value();
          SetConst(env, obj_, n, consts.Get(n).As<Napi::Buffer<uint8_t>>());
        }
      }
      if (bpf_object__load(obj_) != 0) {
        Throw(env, "LOAD_FAILED", "cannot load " + file + "\n" + log.Tail(6000), errno);
      }
    } catch (...) {
      bpf_object__close(obj_);
      obj_ = nullptr;
      throw;
    }
  }

  ~BpfObjectWrap() override {
    if (obj_ != nullptr) bpf_object__close(obj_);
  }

 private:
  bpf_object *Get(Napi::Env env) {
    if (obj_ == nullptr) Throw(env, "CLOSED", "the object was closed");
    return obj_;
  }

  Napi::Value Programs(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    bpf_program *p;
    uint32_t i = 0;
    bpf_object__for_each_program(p, Get(env)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_program__name(p));
      o.Set("fd", bpf_program__fd(p));
      o.Set("type", static_cast<uint32_t>(bpf_program__type(p)));
      out.Set(i++, o);
    }
    return out;
  }

  Napi::Value Maps(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    bpf_map *m;
    uint32_t i = 0;
    bpf_object__for_each_map(m, Get(env)) {
      if (bpf_map__is_internal(m)) continue;
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_map__name(m));
      o.Set("fd", bpf_map__fd(m));
      o.Set("type", static_cast<uint32_t>(bpf_map__type(m)));
      o.Set("keySize", bpf_map__key_size(m));
      o.Set("valueSize", bpf_map__value_size(m));
      o.Set("maxEntries", bpf_map__max_entries(m));
      out.Set(i++, o);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    if (obj_ != nullptr) bpf_object__close(obj_);
    obj_ = nullptr;
    return info.Env().Undefined();
  }

  bpf_object *obj_ = nullptr;
};

}  // namespace

void InitObject(Napi::Env env, Napi::Object exports) {
  exports.Set("BpfObject", BpfObjectWrap::Define(env));
  exports.Set("numPossibleCpus", Napi::Function::New(env, [](const Napi::CallbackInfo &info) -> Napi::Value {
                int n = libbpf_num_possible_cpus();
                if (n < 0) Throw(info.Env(), "MAP_OP_FAILED", "cannot count possible CPUs", -n);
                return Napi::Number::New(info.Env(), n);
              }));
}

}  // namespace cillion
