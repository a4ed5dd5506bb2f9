// Drains a BPF ring buffer into one preallocated JS buffer. The ring is mapped and walked
// here rather than through libbpf's ring_buffer__consume, which moves past a record even
// when its callback refuses it: with a fixed-size batch buffer that would lose the record
// that does not fit. Here such a record stays in the ring for the next batch.
//
// Batch layout: per record a little-endian u32 length, the record, zero padding to 8.
// The libuv loop watches the ring's fd (readable once the kernel wakes consumers) and a
// timer drains as well, since producers may submit with BPF_RB_NO_WAKEUP.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>

#include "addon.h"

namespace cillion {

namespace {

constexpr uint32_t kHdrLen = 8;  // BPF_RINGBUF_HDR_SZ

size_t Round8(size_t n) { return (n + 7) & ~size_t(7); }

class RingReaderWrap : public Napi::ObjectWrap<RingReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RingReader",
                       {InstanceMethod("drain", &RingReaderWrap::Drain), InstanceMethod("start", &RingReaderWrap::Start),
                        InstanceMethod("stop", &RingReaderWrap::Stop)});
  }

  // new RingReader(mapFd, maxEntries, buffer, onBatch)
  explicit RingReaderWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingReaderWrap>(info) {
    Napi::Env env = info.Env();
    size_ = info[1].As<Napi::Number>().Uint32Value();
    auto buf = info[2].As<Napi::Buffer<uint8_t>>();
    buffer_ = Napi::Persistent(buf);
    out_ = buf.Data();
    out_len_ = buf.Length();
    on_batch_ = Napi::Persistent(info[3].As<Napi::Function>());
    page_ = sysconf(_SC_PAGESIZE);
    if (size_ == 0 || (size_ & (size_ - 1)) != 0) Throw(env, "RING_FAILED", "ring size must be a power of two");
    // An fd of our own: the object that owns the map may be closed while we still watch it.
    fd_ = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) Throw(env, "RING_FAILED", "dup the ring's fd", errno);
    consumer_ = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (consumer_ == MAP_FAILED) {
      int err = errno;
      close(fd_);
      Throw(env, "RING_FAILED", "mmap consumer page", err);
    }
    // The data area is mapped twice in a row, so a record that wraps reads contiguously.
    producer_ = mmap(nullptr, page_ + 2 * size_t(size_), PROT_READ, MAP_SHARED, fd_, page_);
    if (producer_ == MAP_FAILED) {
      int err = errno;
      munmap(consumer_, page_);
      close(fd_);
      Throw(env, "RING_FAILED", "mmap producer pages", err);
    }
    data_ = static_cast<uint8_t *>(producer_) + page_;
  }

  ~RingReaderWrap() override {
    munmap(consumer_, page_);
    munmap(producer_, page_ + 2 * size_t(size_));
    close(fd_);
  }

 private:
  // Copies whole records into the batch buffer until it is full or the ring is empty.
  // Sets *stuck when the next record is larger than the whole buffer and so never fits.
  size_t Fill(size_t *bytes, bool *stuck) {
    auto *cons_pos = static_cast<unsigned long *>(consumer_);
    auto *prod_pos = static_cast<unsigned long *>(producer_);
    unsigned long cons = __atomic_load_n(cons_pos, __ATOMIC_ACQUIRE);
    unsigned long prod = __atomic_load_n(prod_pos, __ATOMIC_ACQUIRE);
    size_t n = 0, off = 0;
    *stuck = false;
    while (cons < prod) {
      auto *hdr = reinterpret_cast<uint32_t *>(data_ + (cons & (size_ - 1)));
      uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
      if (len & BPF_RINGBUF_BUSY_BIT) break;
      uint32_t rec_len = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
        size_t need = 4 + Round8(rec_len);
        if (off + need > out_len_) {
          *stuck = need > out_len_;
          break;
        }
        memcpy(out_ + off, &rec_len, 4);
        memcpy(out_ + off + 4, reinterpret_cast<uint8_t *>(hdr) + kHdrLen, rec_len);
        memset(out_ + off + 4 + rec_len, 0, need - 4 - rec_len);
        off += need;
        n++;
      }
      cons += Round8(rec_len + kHdrLen);
      __atomic_store_n(cons_pos, cons, __ATOMIC_RELEASE);
    }
    *bytes = off;
    return n;
  }

  std::string StuckMessage() const {
    return "a ring record does not fit the " + std::to_string(out_len_) + "-byte batch buffer";
  }

  Napi::Value Drain(const Napi::CallbackInfo &info) {
    size_t bytes = 0;
    bool stuck = false;
    size_t n = Fill(&bytes, &stuck);
    if (stuck && n == 0) Throw(info.Env(), "RING_FAILED", StuckMessage());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("records", static_cast<double>(n));
    o.Set("bytes", static_cast<double>(bytes));
    return o;
  }

  // Hands full batches to JS until the ring is empty.
  void Pump() {
    Napi::Env env = on_batch_.Env();
    Napi::HandleScope scope(env);
    for (;;) {
      size_t bytes = 0;
      bool stuck = false;
      size_t n = Fill(&bytes, &stuck);
      if (stuck && n == 0) {
        // No JS frame to throw into from the event loop: stop and raise it as uncaught.
        StopWatching();
        Napi::Error e = Napi::Error::New(env, StuckMessage());
        e.Set("code", Napi::String::New(env, "RING_FAILED"));
        napi_fatal_exception(env, e.Value());
        return;
      }
      if (n == 0) return;
      try {
        on_batch_.MakeCallback(env.Global(), {buffer_.Value(), Napi::Number::New(env, double(n)),
                                              Napi::Number::New(env, double(bytes))},
                               *context_);
      } catch (const Napi::Error &e) {
        // A throwing onBatch is the application's uncaught exception, as for any event.
        napi_fatal_exception(env, e.Value());
        return;
      }
      if (!running_) return;
    }
  }

  static void OnPoll(uv_poll_t *h, int, int) { static_cast<RingReaderWrap *>(h->data)->Pump(); }
  static void OnTimer(uv_timer_t *h) { static_cast<RingReaderWrap *>(h->data)->Pump(); }

  // start(pollIntervalMs)
  Napi::Value Start(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (running_) return env.Undefined();
    uint32_t interval = info[0].As<Napi::Number>().Uint32Value();
    uv_loop_t *loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) Throw(env, "RING_FAILED", "no event loop");
    if (!context_) context_ = std::make_unique<Napi::AsyncContext>(env, "cillion.RingReader");
    poll_ = new uv_poll_t;
    timer_ = new uv_timer_t;
    poll_->data = this;
    timer_->data = this;
    if (uv_poll_init(loop, poll_, fd_) != 0 || uv_poll_start(poll_, UV_READABLE, OnPoll) != 0) {
      delete poll_;
      delete timer_;
      poll_ = nullptr;
      timer_ = nullptr;
      Throw(env, "RING_FAILED", "cannot watch the ring's fd");
    }
    uv_timer_init(loop, timer_);
    uv_timer_start(timer_, OnTimer, interval, interval);
    running_ = true;
    Ref();  // The JS object must outlive the handles that point at it.
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo &info) {
    StopWatching();
    return info.Env().Undefined();
  }

  void StopWatching() {
    if (!running_) return;
    running_ = false;
    uv_poll_stop(poll_);
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    uv_close(reinterpret_cast<uv_handle_t *>(timer_), [](uv_handle_t *h) { delete reinterpret_cast<uv_timer_t *>(h); });
    poll_ = nullptr;
    timer_ = nullptr;
    Unref();
  }

  int fd_ = -1;
  uint32_t size_ = 0;
  size_t page_ = 0;
  void *consumer_ = nullptr;
  void *producer_ = nullptr;
  uint8_t *data_ = nullptr;
  uint8_t *out_ = nullptr;
  size_t out_len_ = 0;
  Napi::Reference<Napi::Buffer<uint8_t>> buffer_;
  Napi::FunctionReference on_batch_;
  std::unique_ptr<Napi::AsyncContext> context_;
  uv_poll_t *poll_ = nullptr;
  uv_timer_t *timer_ = nullptr;
  bool running_ = false;
};

}  // namespace

void InitRing(Napi::Env env, Napi::Object exports) { exports.Set("RingReader", RingReaderWrap::Define(env)); }

}  // namespace cillion
