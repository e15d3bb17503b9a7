// lvsdeck's TUN access: open a TUN device (IFF_TUN | IFF_NO_PI), read and write packets in batches
// on a non-blocking descriptor, and wake JavaScript through libuv when the device is readable.
// Node has no ioctl(), so this is the one thing that needs native code.
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call " failed"); return NULL; } } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, error;
  napi_create_string_utf8(env, err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : err == EBUSY ? "EBUSY" : "EIO",
                          NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_value errnoValue;
  napi_create_int32(env, err, &errnoValue);
  napi_set_named_property(env, error, "errno", errnoValue);
  napi_throw(env, error);
  return NULL;
}

// open(name) -> {fd, name}: the kernel may pick the name when it contains "%d".
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || len == 0 ||
      len >= IFNAMSIZ - 1) {
    napi_throw_type_error(env, NULL, "open(name): name must be a string of 1 to 14 characters");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "cannot open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETIFF failed", err);
  }
  napi_value result, fdValue, nameValue;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &fdValue));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &nameValue));
  CHECK(napi_set_named_property(env, result, "fd", fdValue));
  CHECK(napi_set_named_property(env, result, "name", nameValue));
  return result;
}

static int get_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  bool isBuf = false;
  napi_is_buffer(env, v, &isBuf);
  if (isBuf) return napi_get_buffer_info(env, v, data, len) == napi_ok;
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return 0;
  napi_typedarray_type type;
  size_t n;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &n, data, &ab, &off) != napi_ok) return 0;
  size_t width = type == napi_uint32_array || type == napi_int32_array ? 4 : type == napi_uint16_array ? 2 : 1;
  *len = n * width;
  return 1;
}

// readBatch(fd, buf, lens: Uint32Array, slot) -> count: up to lens.length packets, packet i at i*slot,
// until the device has none left (EAGAIN). A read error other than EAGAIN/EINTR throws.
static napi_value tun_read_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1, slot = 0;
  void *buf, *lensData;
  size_t bufLen, lensBytes;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !get_buffer(env, argv[1], &buf, &bufLen) ||
      !get_buffer(env, argv[2], &lensData, &lensBytes) || napi_get_value_int32(env, argv[3], &slot) != napi_ok ||
      slot <= 0) {
    napi_throw_type_error(env, NULL, "readBatch(fd, buffer, lens: Uint32Array, slot)");
    return NULL;
  }
  uint32_t *lens = lensData;
  size_t max = lensBytes / 4;
  if (bufLen / (size_t)slot < max) max = bufLen / (size_t)slot;
  size_t n = 0;
  while (n < max) {
    ssize_t r = read(fd, (char *)buf + n * (size_t)slot, (size_t)slot);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return throw_errno(env, "read from TUN failed", errno);
    }
    lens[n++] = (uint32_t)r;
  }
  napi_value out;
  CHECK(napi_create_uint32(env, (uint32_t)n, &out));
  return out;
}

// writeBatch(fd, buf, offsets: Uint32Array, lens: Uint32Array, count) -> packets the device took.
// A full queue (EAGAIN) or a packet the kernel refuses (EINVAL...) is skipped and not counted.
static napi_value tun_write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  uint32_t count = 0;
  void *buf, *offData, *lenData;
  size_t bufLen, offBytes, lenBytes;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !get_buffer(env, argv[1], &buf, &bufLen) ||
      !get_buffer(env, argv[2], &offData, &offBytes) || !get_buffer(env, argv[3], &lenData, &lenBytes) ||
      napi_get_value_uint32(env, argv[4], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "writeBatch(fd, buffer, offsets: Uint32Array, lens: Uint32Array, count)");
    return NULL;
  }
  uint32_t *offs = offData, *lens = lenData;
  if (count > offBytes / 4) count = offBytes / 4;
  if (count > lenBytes / 4) count = lenBytes / 4;
  uint32_t ok = 0;
  for (uint32_t i = 0; i < count; i++) {
    if ((size_t)offs[i] + lens[i] > bufLen) continue;
    ssize_t r;
    do r = write(fd, (char *)buf + offs[i], lens[i]); while (r < 0 && errno == EINTR);
    if (r >= 0) ok++;
  }
  napi_value out;
  CHECK(napi_create_uint32(env, ok, &out));
  return out;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int closing;
} Watch;

static void on_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  Watch *w = handle->data;
  if (w->closing) return;
  // libuv stops a poll handle on POLLERR; a TUN device reports it transiently: keep watching
  if (status < 0) uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value cb, global, result;
  napi_get_reference_value(w->env, w->callback, &cb);
  napi_get_global(w->env, &global);
  napi_make_callback(w->env, w->context, global, cb, 0, NULL, &result);
  napi_close_handle_scope(w->env, scope);
}

static void watch_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)data; (void)hint;
}

// watch(fd, callback) -> handle: callback() runs on the event loop whenever fd is readable.
static napi_value tun_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  napi_valuetype t;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_typeof(env, argv[1], &t) != napi_ok ||
      t != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  Watch *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  w->poll.data = w;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", -r);
  }
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_value name;
  napi_create_string_utf8(env, "lvsdeck-tun", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_value handle;
  CHECK(napi_create_external(env, w, watch_finalize, NULL, &handle));
  return handle;
}

// unwatch(handle): stop and free the poll (the callback reference goes with it).
static napi_value tun_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "unwatch(handle)");
    return NULL;
  }
  Watch *w = data;
  if (w->closing) return NULL;
  w->closing = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->context);
  uv_close((uv_handle_t *)&w->poll, on_closed);
  return NULL;
}

// close(fd): the device (not persistent) disappears with its last descriptor.
static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  close(fd);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, tun_open, NULL, NULL, NULL, napi_default, NULL},
    {"readBatch", NULL, tun_read_batch, NULL, NULL, NULL, napi_default, NULL},
    {"writeBatch", NULL, tun_write_batch, NULL, NULL, NULL, napi_default, NULL},
    {"watch", NULL, tun_watch, NULL, NULL, NULL, napi_default, NULL},
    {"unwatch", NULL, tun_unwatch, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, tun_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
