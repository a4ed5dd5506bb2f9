// Map access by file descriptor with raw key and value bytes; bpf/native.ts knows the
// sizes and bpf/maps.ts the layouts. Dumps and bulk writes use the kernel's batch
// operations where the map type has them.
#include <bpf/bpf.h>
#include <unistd.h>

#include <vector>

#include "addon.h"

namespace cillion {

namespace {

int Fd(const Napi::CallbackInfo &info) { return info[0].As<Napi::Number>().Int32Value(); }

Napi::Buffer<uint8_t> Bytes(const Napi::Value &v) { return v.As<Napi::Buffer<uint8_t>>(); }

// mapLookup(fd, key, valueSize) -> Buffer | null
Napi::Value Lookup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto key = Bytes(info[1]);
  std::vector<uint8_t> value(info[2].As<Napi::Number>().Uint32Value());
  if (bpf_map_lookup_elem(Fd(info), key.Data(), value.data()) != 0) {
    if (errno == ENOENT) return env.Null();
    Throw(env, "MAP_OP_FAILED", "lookup", errno);
  }
  return Napi::Buffer<uint8_t>::Copy(env, value.data(), value.size());
}

// mapUpdate(fd, key, value, flags)
Napi::Value Update(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto key = Bytes(info[1]);
  auto value = Bytes(info[2]);
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : uint64_t(BPF_ANY);
  if (bpf_map_update_elem(Fd(info), key.Data(), value.Data(), flags) != 0) Throw(env, "MAP_OP_FAILED", "update", errno);
  return env.Undefined();
}

// mapDelete(fd, key) -> whether it existed
Napi::Value Delete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto key = Bytes(info[1]);
  if (bpf_map_delete_elem(Fd(info), key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    Throw(env, "MAP_OP_FAILED", "delete", errno);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Array Pairs(Napi::Env env, const std::vector<uint8_t> &keys, const std::vector<uint8_t> &values, size_t n,
                  size_t ks, size_t vs) {
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Buffer<uint8_t>::Copy(env, keys.data() + i * ks, ks));
    pair.Set(1u, Napi::Buffer<uint8_t>::Copy(env, values.data() + i * vs, vs));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

// mapDump(fd, keySize, valueSize, maxEntries, batch) -> [key, value][]
Napi::Value Dump(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = Fd(info);
  size_t ks = info[1].As<Napi::Number>().Uint32Value();
  size_t vs = info[2].As<Napi::Number>().Uint32Value();
  size_t max = std::max<uint32_t>(1, info[3].As<Napi::Number>().Uint32Value());
  bool batch = info[4].As<Napi::Boolean>().Value();
  if (batch) {
    std::vector<uint8_t> keys(max * ks), values(max * vs);
    // The batch cursor is opaque; hash maps use a u32 bucket index, arrays the key.
    uint64_t in = 0, out = 0;
    size_t total = 0;
    bool first = true;
    while (total < max) {
      __u32 count = static_cast<__u32>(max - total);
      int rc = bpf_map_lookup_batch(fd, first ? nullptr : &in, &out, keys.data() + total * ks, values.data() + total * vs,
                                    &count, nullptr);
      total += count;
      if (rc != 0 && errno == ENOENT) break;
      if (rc != 0) Throw(env, "MAP_OP_FAILED", "lookup batch", errno);
      in = out;
      first = false;
    }
    return Pairs(env, keys, values, total, ks, vs);
  }
  std::vector<uint8_t> keys, values, key(ks), next(ks), value(vs);
  size_t n = 0;
  void *prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    key = next;
    prev = key.data();
    // An entry deleted between the two calls is simply not part of the dump.
    if (bpf_map_lookup_elem(fd, key.data(), value.data()) != 0) continue;
    keys.insert(keys.end(), key.begin(), key.end());
    values.insert(values.end(), value.begin(), value.end());
    n++;
  }
  if (errno != ENOENT) Throw(env, "MAP_OP_FAILED", "iterate", errno);
  return Pairs(env, keys, values, n, ks, vs);
}

// mapUpdateBatch(fd, keys, values, count): keys and values concatenated
Napi::Value UpdateBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto keys = Bytes(info[1]);
  auto values = Bytes(info[2]);
  __u32 count = info[3].As<Napi::Number>().Uint32Value();
  if (bpf_map_update_batch(Fd(info), keys.Data(), values.Data(), &count, nullptr) != 0) {
    Throw(env, "MAP_OP_FAILED", "update batch", errno);
  }
  return env.Undefined();
}

// mapDeleteBatch(fd, keys, keySize, count) -> how many of the keys existed. The kernel
// stops a batch at the first missing key and says how far it got, so the batch resumes
// just past that key.
Napi::Value DeleteBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto keys = Bytes(info[1]);
  size_t ks = info[2].As<Napi::Number>().Uint32Value();
  size_t total = info[3].As<Napi::Number>().Uint32Value();
  size_t done = 0, existed = 0;
  while (done < total) {
    __u32 count = static_cast<__u32>(total - done);
    int rc = bpf_map_delete_batch(Fd(info), keys.Data() + done * ks, &count, nullptr);
    int err = errno;
    existed += count;
    done += count;
    if (rc == 0) continue;
    if (err != ENOENT) Throw(env, "MAP_OP_FAILED", "delete batch", err);
    done++;
  }
  return Napi::Number::New(env, static_cast<double>(existed));
}

// mapOpenPinned(path) -> { fd, type, keySize, valueSize, maxEntries, name }
Napi::Value OpenPinned(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) Throw(env, "MAP_OP_FAILED", "open pinned " + path, errno);
  bpf_map_info mi = {};
  __u32 len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) {
    int err = errno;
    close(fd);
    Throw(env, "MAP_OP_FAILED", "info of " + path, err);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("type", mi.type);
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("name", std::string(mi.name));
  return o;
}

Napi::Value CloseFd(const Napi::CallbackInfo &info) {
  close(Fd(info));
  return info.Env().Undefined();
}

}  // namespace

void InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New(env, Lookup));
  exports.Set("mapUpdate", Napi::Function::New(env, Update));
  exports.Set("mapDelete", Napi::Function::New(env, Delete));
  exports.Set("mapDump", Napi::Function::New(env, Dump));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, UpdateBatch));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, DeleteBatch));
  exports.Set("mapOpenPinned", Napi::Function::New(env, OpenPinned));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
}

}  // namespace cillion
