// floor: the lower bound for the fan-out benchmarks (issue 7).
//
// A single-threaded epoll WebSocket server with no gateway logic and no Kafka.
// It accepts upgrades on /getEvents/<channel>?organization_id=O, makes the
// records itself at RATE records/s (round-robin over the organizations),
// renders and frames each record once, queues the same buffer on every
// connection of its organization, and writes each connection's queue with
// writev(), at most BATCH messages per call. What the load client measures
// against it is what the kernel allows for a given number of writes.
//
// Environment (all optional):
//   PORT                     listen port on 127.0.0.1 (default 5000)
//   RATE                     records per second over all organizations (1000)
//   BATCH                    messages per writev (1 = one write per delivery)
//   ORGS                     0: round-robin over organizations that have
//                            connections; N > 0: over "0".."N-1" (default 0)
//   BURST                    records made at once for one organization before
//                            the round-robin moves on (default 1: interleaved,
//                            as a Kafka stream of many tenants; K: every
//                            touched queue holds K messages at the flush, the
//                            dense fan-out; the average RATE is unchanged)
//   START_AFTER_CONNECTIONS  start generating once this many clients have
//                            upgraded; 0 = at once (default 0). SIGUSR1 also
//                            starts it.
//   MAX_SECONDS              exit after this long (default 600)
//   VALUE_BYTES              size of the record value JSON, padded (200)
//   TICK_US                  generator tick (default 1000)
//   STAMP                    sent_us = "now" (render time, default) or
//                            "scheduled" (the record's slot in the schedule,
//                            so a generator that falls behind shows as latency)
//   PING_SECONDS             {"type":"ping"} period (default 20)
//   QUEUE_CAP_BYTES          per-connection queue cap; beyond it the
//                            connection is dropped (default 4 MiB)
//   STATS_SECONDS            progress line period on stderr (default 5; 0 = off)
//
// Thread: everything runs on the main thread.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_ORG_LEN 64
#define HTTP_MAX 8192
#define WS_IN_MAX 512
#define MAX_BATCH 1024

// ---------------------------------------------------------------- settings

static struct {
  int port;
  double rate;
  int batch;
  int orgs;
  int burst;
  long start_after;
  double max_seconds;
  int value_bytes;
  long tick_us;
  int stamp_scheduled;
  double ping_seconds;
  size_t queue_cap;
  double stats_seconds;
} cfg;

static long env_long(const char* name, long def, long lo, long hi) {
  const char* s = getenv(name);
  if (!s || !*s) return def;
  char* end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) {
    fprintf(stderr, "floor: %s=%s: expected an integer in [%ld, %ld]\n", name, s, lo, hi);
    exit(2);
  }
  return v;
}

static double env_double(const char* name, double def, double lo, double hi) {
  const char* s = getenv(name);
  if (!s || !*s) return def;
  char* end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || v < lo || v > hi) {
    fprintf(stderr, "floor: %s=%s: expected a number in [%g, %g]\n", name, s, lo, hi);
    exit(2);
  }
  return v;
}

// ---------------------------------------------------------------- clocks

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t real_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

// ---------------------------------------------------------------- messages

// One framed server message (header + text), shared by every queue it is on.
typedef struct Msg {
  uint32_t refs;
  uint32_t len;
  unsigned char data[];
} Msg;

static Msg* msg_frame(const char* text, size_t n) {
  size_t hdr = n < 126 ? 2 : (n < 65536 ? 4 : 10);
  Msg* m = malloc(sizeof(Msg) + hdr + n);
  if (!m) abort();
  m->refs = 1;
  m->len = (uint32_t)(hdr + n);
  m->data[0] = 0x81;  // FIN + text
  if (n < 126) {
    m->data[1] = (unsigned char)n;
  } else if (n < 65536) {
    m->data[1] = 126;
    m->data[2] = (unsigned char)(n >> 8);
    m->data[3] = (unsigned char)n;
  } else {
    m->data[1] = 127;
    for (int i = 0; i < 8; i++) m->data[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
  }
  memcpy(m->data + hdr, text, n);
  return m;
}

static void msg_unref(Msg* m) {
  if (--m->refs == 0) free(m);
}

// ---------------------------------------------------------------- state

typedef struct Org Org;

typedef struct Conn {
  int fd;
  int upgraded;  // 0 while the HTTP request is being read
  int dead;      // closed; freed at the end of the loop iteration
  int blocked;   // the last write hit EAGAIN: wait for EPOLLOUT
  int dirty;     // on the flush list
  Org* org;
  uint32_t org_slot;  // index in org->conns
  // input: the HTTP request, then client frames (only parsed to see a close)
  char* in;
  uint32_t in_len;
  uint64_t in_skip;  // payload bytes of a client frame still to discard
  // output queue: a ring of shared framed messages
  Msg** q;
  uint32_t q_cap, q_head, q_len;
  uint32_t head_off;  // bytes of the head message already written
  size_t q_bytes;
  struct Conn* next_free;
} Conn;

struct Org {
  char name[MAX_ORG_LEN + 1];
  uint32_t name_len;
  uint64_t seq;
  Conn** conns;
  uint32_t n, cap;
  int active_slot;  // index in g.active, -1 when not there
  Org* hnext;
};

#define ORG_BUCKETS 4096

static struct {
  int ep, lfd, tfd, sfd;
  Org* buckets[ORG_BUCKETS];
  Org** all;  // ORGS > 0: the fixed list "0".."ORGS-1"
  Org** active;  // organizations with at least one connection
  uint32_t n_active, cap_active;
  uint64_t rr;
  Org* cur;  // organization of the current burst
  int burst_left;
  Conn** dirty;
  uint32_t n_dirty, cap_dirty;
  Conn* free_later;
  long conns, upgraded_total;
  int started;
  uint64_t t0_mono, t0_real;  // generation start
  uint64_t generated;         // records generated (= schedule slots consumed)
  uint64_t deliveries, writes, bytes_out, dropped, records_rendered;
  uint64_t max_lag_us;
  char* pad;
  Msg* ping;
} g;

// ---------------------------------------------------------------- orgs

static uint32_t hash_str(const char* s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static Org* org_get(const char* name, size_t n, int create) {
  uint32_t b = hash_str(name, n) % ORG_BUCKETS;
  for (Org* o = g.buckets[b]; o; o = o->hnext)
    if (o->name_len == n && memcmp(o->name, name, n) == 0) return o;
  if (!create) return NULL;
  Org* o = calloc(1, sizeof(Org));
  if (!o) abort();
  memcpy(o->name, name, n);
  o->name_len = (uint32_t)n;
  o->active_slot = -1;
  o->hnext = g.buckets[b];
  g.buckets[b] = o;
  return o;
}

static void org_add(Org* o, Conn* c) {
  if (o->n == o->cap) {
    o->cap = o->cap ? o->cap * 2 : 16;
    o->conns = realloc(o->conns, o->cap * sizeof(Conn*));
    if (!o->conns) abort();
  }
  c->org = o;
  c->org_slot = o->n;
  o->conns[o->n++] = c;
  if (o->active_slot < 0) {
    if (g.n_active == g.cap_active) {
      g.cap_active = g.cap_active ? g.cap_active * 2 : 64;
      g.active = realloc(g.active, g.cap_active * sizeof(Org*));
      if (!g.active) abort();
    }
    o->active_slot = (int)g.n_active;
    g.active[g.n_active++] = o;
  }
}

static void org_remove(Conn* c) {
  Org* o = c->org;
  if (!o) return;
  Conn* last = o->conns[--o->n];
  o->conns[c->org_slot] = last;
  last->org_slot = c->org_slot;
  c->org = NULL;
  if (o->n == 0 && o->active_slot >= 0) {
    Org* lo = g.active[--g.n_active];
    g.active[o->active_slot] = lo;
    lo->active_slot = o->active_slot;
    o->active_slot = -1;
  }
}

// ---------------------------------------------------------------- connections

static void conn_close(Conn* c) {
  if (c->dead) return;
  c->dead = 1;
  org_remove(c);
  close(c->fd);  // also removes it from the epoll set
  g.conns--;
  while (c->q_len) {
    msg_unref(c->q[c->q_head]);
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
  }
  c->next_free = g.free_later;
  g.free_later = c;
}

static void free_closed(void) {
  while (g.free_later) {
    Conn* c = g.free_later;
    g.free_later = c->next_free;
    free(c->in);
    free(c->q);
    free(c);
  }
}

static void mark_dirty(Conn* c) {
  if (c->dirty || c->blocked) return;
  if (g.n_dirty == g.cap_dirty) {
    g.cap_dirty = g.cap_dirty ? g.cap_dirty * 2 : 1024;
    g.dirty = realloc(g.dirty, g.cap_dirty * sizeof(Conn*));
    if (!g.dirty) abort();
  }
  c->dirty = 1;
  g.dirty[g.n_dirty++] = c;
}

// Queues m on c (taking a reference); drops c when its queue is over the cap.
static void conn_enqueue(Conn* c, Msg* m) {
  if (c->dead || !c->upgraded) return;
  if (c->q_bytes + m->len > cfg.queue_cap) {
    g.dropped++;
    conn_close(c);
    return;
  }
  if (c->q_len == c->q_cap) {
    uint32_t ncap = c->q_cap ? c->q_cap * 2 : 8;
    Msg** nq = malloc(ncap * sizeof(Msg*));
    if (!nq) abort();
    for (uint32_t i = 0; i < c->q_len; i++) nq[i] = c->q[(c->q_head + i) % c->q_cap];
    free(c->q);
    c->q = nq;
    c->q_cap = ncap;
    c->q_head = 0;
  }
  c->q[(c->q_head + c->q_len) % c->q_cap] = m;
  c->q_len++;
  c->q_bytes += m->len;
  m->refs++;
  mark_dirty(c);
}

// Writes c's queue, at most cfg.batch messages per writev, until it is empty
// or the socket is full (then waits for EPOLLOUT).
static void conn_flush(Conn* c) {
  static struct iovec iov[MAX_BATCH];
  while (c->q_len && !c->dead) {
    int k = 0;
    size_t total = 0;
    for (uint32_t i = 0; i < c->q_len && k < cfg.batch; i++, k++) {
      Msg* m = c->q[(c->q_head + i) % c->q_cap];
      uint32_t off = i == 0 ? c->head_off : 0;
      iov[k].iov_base = m->data + off;
      iov[k].iov_len = m->len - off;
      total += m->len - off;
    }
    ssize_t w = writev(c->fd, iov, k);
    g.writes++;
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->blocked = 1;
        return;
      }
      conn_close(c);
      return;
    }
    g.bytes_out += (uint64_t)w;
    c->q_bytes -= (size_t)w;
    size_t left = (size_t)w;
    while (left) {
      Msg* m = c->q[c->q_head];
      size_t rem = m->len - c->head_off;
      if (left >= rem) {
        left -= rem;
        c->head_off = 0;
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        msg_unref(m);
        g.deliveries++;
      } else {
        c->head_off += (uint32_t)left;
        left = 0;
      }
    }
    if ((size_t)w < total) {  // the socket buffer is full
      c->blocked = 1;
      return;
    }
  }
}

static void flush_dirty(void) {
  for (uint32_t i = 0; i < g.n_dirty; i++) {
    Conn* c = g.dirty[i];
    c->dirty = 0;
    if (!c->dead && !c->blocked) conn_flush(c);
  }
  g.n_dirty = 0;
}

// ---------------------------------------------------------------- HTTP upgrade

static int valid_org(const char* s, size_t n) {
  if (n == 0 || n > MAX_ORG_LEN) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '.' || ch == '_' || ch == ':' || ch == '@' || ch == '-'))
      return 0;
  }
  return 1;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Percent-decodes the query parameter `key` of [q, q_end) into out (cap bytes).
static int query_param(const char* q, const char* q_end, const char* key, char* out, size_t cap,
                       size_t* out_len) {
  size_t klen = strlen(key);
  const char* p = q;
  while (p < q_end) {
    const char* amp = memchr(p, '&', (size_t)(q_end - p));
    if (!amp) amp = q_end;
    if ((size_t)(amp - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
      size_t n = 0;
      for (const char* s = p + klen + 1; s < amp; s++) {
        char ch = *s;
        if (ch == '%' && s + 2 < amp && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
          ch = (char)(hexval(s[1]) * 16 + hexval(s[2]));
          s += 2;
        } else if (ch == '+') {
          ch = ' ';
        }
        if (n >= cap) return 0;
        out[n++] = ch;
      }
      *out_len = n;
      return 1;
    }
    p = amp + 1;
  }
  return 0;
}

static void http_reply_close(Conn* c, const char* status) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                   status);
  ssize_t w = write(c->fd, buf, (size_t)n);
  (void)w;
  conn_close(c);
}

static void start_generation(const char* why);

// Handles a complete request head in c->in (NUL-terminated, `head_len` bytes).
static void handle_upgrade(Conn* c, size_t head_len) {
  char* req = c->in;
  char* eol = strstr(req, "\r\n");
  if (!eol || strncmp(req, "GET ", 4) != 0) return http_reply_close(c, "400 Bad Request");
  char* path = req + 4;
  char* sp = memchr(path, ' ', (size_t)(eol - path));
  if (!sp) return http_reply_close(c, "400 Bad Request");
  if (strncmp(path, "/getEvents/", 11) != 0) return http_reply_close(c, "404 Not Found");
  char* qm = memchr(path, '?', (size_t)(sp - path));
  char org[MAX_ORG_LEN + 1];
  size_t org_len = 0;
  if (!qm || !query_param(qm + 1, sp, "organization_id", org, MAX_ORG_LEN, &org_len) ||
      !valid_org(org, org_len))
    return http_reply_close(c, "400 Bad Request");

  // Sec-WebSocket-Key, case-insensitive header name.
  const char* key = NULL;
  size_t key_len = 0;
  for (char* line = eol + 2; line < req + head_len;) {
    char* le = strstr(line, "\r\n");
    if (!le || le == line) break;
    if ((size_t)(le - line) > 18 && strncasecmp(line, "Sec-WebSocket-Key:", 18) == 0) {
      const char* v = line + 18;
      while (*v == ' ' || *v == '\t') v++;
      const char* ve = le;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      key = v;
      key_len = (size_t)(ve - v);
    }
    line = le + 2;
  }
  if (!key || key_len == 0 || key_len > 64) return http_reply_close(c, "400 Bad Request");

  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char cat[128], digest[SHA_DIGEST_LENGTH], accept[64];
  memcpy(cat, key, key_len);
  memcpy(cat + key_len, guid, sizeof guid - 1);
  SHA1(cat, key_len + sizeof guid - 1, digest);
  EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);

  char resp[256];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                   (const char*)accept);
  if (write(c->fd, resp, (size_t)n) != n) {  // a fresh socket takes 130 bytes
    conn_close(c);
    return;
  }
  c->upgraded = 1;
  c->in_len = 0;
  char* small = realloc(c->in, WS_IN_MAX);  // client frames only need a little
  if (small) c->in = small;
  org_add(org_get(org, org_len, 1), c);
  g.upgraded_total++;
  if (!g.started && cfg.start_after > 0 && g.upgraded_total >= cfg.start_after)
    start_generation("START_AFTER_CONNECTIONS reached");
}

// ---------------------------------------------------------------- input

// Parses client frames in c->in; returns 0 when the client sent a close frame.
static int parse_client_frames(Conn* c) {
  uint32_t pos = 0;
  for (;;) {
    if (c->in_skip) {
      uint64_t take = c->in_len - pos < c->in_skip ? c->in_len - pos : c->in_skip;
      pos += (uint32_t)take;
      c->in_skip -= take;
      if (c->in_skip) break;
    }
    uint32_t avail = c->in_len - pos;
    if (avail < 2) break;
    unsigned char* p = (unsigned char*)c->in + pos;
    int opcode = p[0] & 0x0f;
    int masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    uint32_t hdr = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = ((uint64_t)p[2] << 8) | p[3];
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | p[2 + i];
      hdr = 10;
    }
    if (masked) hdr += 4;
    if (avail < hdr) break;
    if (opcode == 8) return 0;
    pos += hdr;
    c->in_skip = len;  // ignore every other frame's payload
  }
  memmove(c->in, c->in + pos, c->in_len - pos);
  c->in_len -= pos;
  return 1;
}

static void conn_read(Conn* c) {
  for (;;) {
    uint32_t cap = c->upgraded ? WS_IN_MAX : HTTP_MAX;
    if (c->in_len >= cap - 1) {  // request head too long
      if (!c->upgraded) return http_reply_close(c, "431 Request Header Fields Too Large");
      conn_close(c);
      return;
    }
    ssize_t r = read(c->fd, c->in + c->in_len, cap - 1 - c->in_len);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) conn_close(c);
      return;
    }
    if (r == 0) {
      conn_close(c);
      return;
    }
    c->in_len += (uint32_t)r;
    if (!c->upgraded) {
      c->in[c->in_len] = 0;
      char* end = strstr(c->in, "\r\n\r\n");
      if (end) {
        handle_upgrade(c, (size_t)(end - c->in) + 4);
        if (c->dead) return;
      }
    } else if (!parse_client_frames(c)) {
      conn_close(c);
      return;
    }
  }
}

static void accept_all(void) {
  for (int i = 0; i < 512; i++) {
    int fd = accept4(g.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        fprintf(stderr, "floor: accept: %s\n", strerror(errno));
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as the gateway
    Conn* c = calloc(1, sizeof(Conn));
    if (!c || !(c->in = malloc(HTTP_MAX))) abort();
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
      close(fd);
      free(c->in);
      free(c);
      continue;
    }
    g.conns++;
  }
}

// ---------------------------------------------------------------- generator

static void start_generation(const char* why) {
  if (g.started) return;
  g.started = 1;
  g.t0_mono = mono_us();
  g.t0_real = real_us();
  g.generated = 0;
  fprintf(stderr, "floor: generating %.0f records/s (%s; %ld connections)\n", cfg.rate, why,
          g.conns);
}

static Org* next_org(void) {
  if (g.burst_left > 0 && g.cur) {
    g.burst_left--;
    return g.cur;
  }
  if (cfg.orgs > 0) {
    g.cur = g.all[g.rr++ % (uint64_t)cfg.orgs];
  } else {
    if (g.n_active == 0) return NULL;
    g.cur = g.active[g.rr++ % g.n_active];
  }
  g.burst_left = cfg.burst - 1;
  return g.cur;
}

static void emit_record(Org* o, uint64_t sent_us) {
  uint64_t seq = o->seq++;
  if (o->n == 0) return;  // nobody listens: the seq still advances
  char value[4096], text[8192];
  int vn = snprintf(value, sizeof value,
                    "{\"organization_id\":\"%s\",\"property_id\":\"0\",\"seq\":%llu,"
                    "\"sent_us\":%llu,\"pad\":\"",
                    o->name, (unsigned long long)seq, (unsigned long long)sent_us);
  int pad = cfg.value_bytes - vn - 2;
  if (pad < 0) pad = 0;
  if (pad > (int)sizeof value - vn - 3) pad = (int)sizeof value - vn - 3;
  memcpy(value + vn, g.pad, (size_t)pad);
  vn += pad;
  value[vn++] = '"';
  value[vn++] = '}';
  value[vn] = 0;
  int tn = snprintf(text, sizeof text,
                    "{\"type\":\"event\",\"channel\":\"payment\",\"topic\":\"floor\",\"partition\":0,"
                    "\"offset\":%llu,\"timestamp\":%llu,\"key\":{\"organization_id\":\"%s\"},"
                    "\"value\":%s}",
                    (unsigned long long)g.records_rendered, (unsigned long long)(sent_us / 1000),
                    o->name, value);
  Msg* m = msg_frame(text, (size_t)tn);
  g.records_rendered++;
  // Iterate backwards: a connection dropped at its cap swaps the last one in.
  for (uint32_t i = o->n; i-- > 0;) {
    if (i < o->n) conn_enqueue(o->conns[i], m);
  }
  msg_unref(m);
}

// Generates the records due by now (at most 1 s of schedule per call) and
// flushes the connections they touched. Returns 1 when still behind schedule.
// When the core falls behind, steps grow, queues deepen and each writev
// carries more messages (up to BATCH): the batching clocks itself.
static int generate(void) {
  if (!g.started) return 0;
  uint64_t now = mono_us();
  uint64_t due = (uint64_t)((double)(now - g.t0_mono) * cfg.rate / 1e6);
  due -= due % (uint64_t)cfg.burst;  // a burst is made all at once
  if (due <= g.generated) return 0;
  uint64_t max_step = ((uint64_t)cfg.rate / (uint64_t)cfg.burst + 1) * (uint64_t)cfg.burst;
  uint64_t n = due - g.generated;
  int behind = 0;
  if (n > max_step) {
    n = max_step;
    behind = 1;
  }
  // How late the newest record of this step is against its slot.
  uint64_t lag = now - g.t0_mono - (uint64_t)((double)(g.generated + n - 1) * 1e6 / cfg.rate);
  if (lag > g.max_lag_us) g.max_lag_us = lag;
  uint64_t stamp_now = real_us();
  for (uint64_t i = 0; i < n; i++) {
    Org* o = next_org();
    uint64_t slot = g.t0_real + (uint64_t)((double)(g.generated + i) * 1e6 / cfg.rate);
    if (o) emit_record(o, cfg.stamp_scheduled ? slot : stamp_now);
  }
  g.generated += n;
  flush_dirty();
  return behind;
}

static void send_pings(void) {
  for (uint32_t i = 0; i < g.n_active; i++) {
    Org* o = g.active[i];
    for (uint32_t j = o->n; j-- > 0;)
      if (j < o->n) conn_enqueue(o->conns[j], g.ping);
  }
  flush_dirty();
}

// ---------------------------------------------------------------- main

static void listen_on(int port) {
  g.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(g.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(g.lfd, (struct sockaddr*)&a, sizeof a) < 0 || listen(g.lfd, 4096) < 0) {
    fprintf(stderr, "floor: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
    exit(1);
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(g.ep, EPOLL_CTL_ADD, g.lfd, &ev);
}

int main(void) {
  cfg.port = (int)env_long("PORT", 5000, 1, 65535);
  cfg.rate = env_double("RATE", 1000, 0.001, 1e8);
  cfg.batch = (int)env_long("BATCH", 1, 1, MAX_BATCH);
  cfg.orgs = (int)env_long("ORGS", 0, 0, 1000000);
  cfg.burst = (int)env_long("BURST", 1, 1, 1000000);
  cfg.start_after = env_long("START_AFTER_CONNECTIONS", 0, 0, 10000000);
  cfg.max_seconds = env_double("MAX_SECONDS", 600, 0.1, 86400);
  cfg.value_bytes = (int)env_long("VALUE_BYTES", 200, 0, 3800);
  cfg.tick_us = env_long("TICK_US", 1000, 50, 1000000);
  cfg.ping_seconds = env_double("PING_SECONDS", 20, 0.1, 86400);
  cfg.queue_cap = (size_t)env_long("QUEUE_CAP_BYTES", 4L << 20, 1024, 1L << 40);
  cfg.stats_seconds = env_double("STATS_SECONDS", 5, 0, 86400);
  const char* stamp = getenv("STAMP");
  if (stamp && *stamp && strcmp(stamp, "now") != 0 && strcmp(stamp, "scheduled") != 0) {
    fprintf(stderr, "floor: STAMP=%s: expected now or scheduled\n", stamp);
    return 2;
  }
  cfg.stamp_scheduled = stamp && strcmp(stamp, "scheduled") == 0;

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  g.pad = malloc(4096);
  memset(g.pad, 'x', 4096);
  static const char ping[] = "{\"type\":\"ping\"}";
  g.ping = msg_frame(ping, sizeof ping - 1);
  if (cfg.orgs > 0) {
    g.all = malloc((size_t)cfg.orgs * sizeof(Org*));
    for (int i = 0; i < cfg.orgs; i++) {
      char name[32];
      int n = snprintf(name, sizeof name, "%d", i);
      g.all[i] = org_get(name, (size_t)n, 1);
    }
  }

  g.ep = epoll_create1(EPOLL_CLOEXEC);
  listen_on(cfg.port);

  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGUSR1);
  sigaddset(&ss, SIGTERM);
  sigaddset(&ss, SIGINT);
  sigprocmask(SIG_BLOCK, &ss, NULL);
  signal(SIGPIPE, SIG_IGN);
  g.sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
  struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &g.sfd};
  epoll_ctl(g.ep, EPOLL_CTL_ADD, g.sfd, &sev);

  g.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct itimerspec its = {.it_interval = {cfg.tick_us / 1000000, (cfg.tick_us % 1000000) * 1000},
                           .it_value = {cfg.tick_us / 1000000, (cfg.tick_us % 1000000) * 1000}};
  timerfd_settime(g.tfd, 0, &its, NULL);
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &g.tfd};
  epoll_ctl(g.ep, EPOLL_CTL_ADD, g.tfd, &tev);

  fprintf(stderr,
          "floor: listening on 127.0.0.1:%d (RATE=%g BATCH=%d BURST=%d ORGS=%d "
          "START_AFTER_CONNECTIONS=%ld MAX_SECONDS=%g)\n",
          cfg.port, cfg.rate, cfg.batch, cfg.burst, cfg.orgs, cfg.start_after, cfg.max_seconds);
  if (cfg.start_after == 0) start_generation("at start");

  uint64_t t_begin = mono_us(), next_ping = t_begin + (uint64_t)(cfg.ping_seconds * 1e6);
  uint64_t next_stats = t_begin + (uint64_t)(cfg.stats_seconds * 1e6);
  uint64_t last_deliv = 0, last_writes = 0, last_stats = t_begin;
  const char* exit_why = "MAX_SECONDS reached";
  struct epoll_event evs[256];
  int behind = 0, running = 1;
  while (running) {
    int n = epoll_wait(g.ep, evs, 256, behind ? 0 : 100);
    if (n < 0 && errno != EINTR) {
      perror("floor: epoll_wait");
      return 1;
    }
    int tick = 0;
    for (int i = 0; i < n; i++) {
      void* p = evs[i].data.ptr;
      if (p == NULL) {
        accept_all();
      } else if (p == &g.tfd) {
        uint64_t exp;
        ssize_t r = read(g.tfd, &exp, sizeof exp);
        (void)r;
        tick = 1;
      } else if (p == &g.sfd) {
        struct signalfd_siginfo si;
        while (read(g.sfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGUSR1) {
            start_generation("SIGUSR1");
          } else {
            exit_why = si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
            running = 0;
          }
        }
      } else {
        Conn* c = p;
        if (c->dead) continue;
        uint32_t e = evs[i].events;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_read(c);
        if (!c->dead && (e & EPOLLOUT) && c->blocked) {
          c->blocked = 0;
          conn_flush(c);
        }
      }
    }
    if (tick || behind) behind = generate();
    uint64_t now = mono_us();
    if (now >= next_ping) {
      send_pings();
      next_ping = now + (uint64_t)(cfg.ping_seconds * 1e6);
    }
    if (cfg.stats_seconds > 0 && now >= next_stats) {
      double dt = (double)(now - last_stats) / 1e6;
      uint64_t dd = g.deliveries - last_deliv, dw = g.writes - last_writes;
      fprintf(stderr,
              "floor: t=%.0fs conns=%ld records=%llu deliveries/s=%.0f writes/delivery=%.3f "
              "dropped=%llu max_lag_ms=%.1f\n",
              (double)(now - t_begin) / 1e6, g.conns, (unsigned long long)g.records_rendered,
              (double)dd / dt, dd ? (double)dw / (double)dd : 0.0,
              (unsigned long long)g.dropped, (double)g.max_lag_us / 1000.0);
      last_deliv = g.deliveries;
      last_writes = g.writes;
      last_stats = now;
      next_stats = now + (uint64_t)(cfg.stats_seconds * 1e6);
    }
    if ((double)(now - t_begin) >= cfg.max_seconds * 1e6) running = 0;
    free_closed();
  }
  fprintf(stderr,
          "floor: exit (%s): records=%llu deliveries=%llu writes=%llu bytes=%llu dropped=%llu "
          "max_lag_ms=%.1f\n",
          exit_why, (unsigned long long)g.records_rendered, (unsigned long long)g.deliveries,
          (unsigned long long)g.writes, (unsigned long long)g.bytes_out,
          (unsigned long long)g.dropped, (double)g.max_lag_us / 1000.0);
  return 0;
}
