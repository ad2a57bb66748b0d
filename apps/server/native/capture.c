/*
 * nslab-capture: captures every interface of one network namespace and writes pcap.
 *
 * `ip netns exec NS tcpdump -U -w -` cost nslab two process hops per capture and one
 * write per packet (-U), and had to choose between immediate mode (a wakeup and a
 * write per packet, drops under floods) and buffered mode (TPACKET_V3 blocks held up
 * to a second). This helper enters the namespace (setns), reads an AF_PACKET socket
 * with recvmmsg (every packet ready at a wakeup, in one call) and writes what it read
 * in one write per batch: a packet after a quiet spell goes out at once; under a flood
 * writes come at most once per FLOOD_PACE_US, so the reader wakes a few hundred times a
 * second however many packets arrive.
 *
 * Usage: nslab-capture [-s SNAPLEN] [-B KIB] [-f BYTECODE] NS
 *   NS        a name under /run/netns
 *   -s        snap length of each record, the 20-byte SLL2 header included (as libpcap's -s)
 *   -B        the socket's receive buffer in KiB (SO_RCVBUFFORCE): what absorbs a stalled reader
 *   -f        a classic BPF program for an Ethernet frame, in `tcpdump -ddd` numbers joined by
 *             commas ("N,code jt jf k,..."); attached with SO_ATTACH_FILTER, so a packet it
 *             refuses is never copied out of the kernel
 *
 * Output on stdout: a pcap stream as `tcpdump -i any -w - --time-stamp-precision=nano`
 * writes it (nanosecond magic, LINKTYPE_LINUX_SLL2, the same SLL2 header libpcap builds
 * from the socket address; outgoing packets on lo skipped, as libpcap skips them, since
 * lo shows each packet again as incoming). On stderr: "listening on" once capturing, the
 * kernel's drop count whenever it grew ("N packets dropped by kernel", a running total),
 * and at the end tcpdump's three counts. SIGTERM or SIGINT: what the socket holds is
 * written, the counts printed, exit 0. It sets its own parent-death signal: it never
 * outlives the server that started it.
 *
 * Limits: with a filter, only packets of devices with an Ethernet header (hatype
 * ARPHRD_ETHER or ARPHRD_LOOPBACK: veth, bridge, vxlan, macvlan, lo) are offered to it,
 * since the program was compiled for Ethernet; a VLAN tag the device took off is not
 * put back (libpcap does; the kernels nslab runs on have no vlan devices).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NETNS_DIR "/run/netns/"
/* pcap-savefile(5): nanosecond magic; LINKTYPE_LINUX_SLL2 (276); libpcap's MAXIMUM_SNAPLEN. */
#define PCAP_MAGIC_NANO 0xa1b23c4du
#define LINKTYPE_LINUX_SLL2 276
#define MAX_SNAPLEN 262144
#define SLL2_LEN 20
#define RECORD_HEADER 16
/* Messages per recvmmsg: a few hundred microseconds of a flood per call. */
#define BATCH 64
/* Room for any link header before the network header (tp_net): Ethernet is 14. */
#define LINK_ROOM 64
/*
 * Writes are paced by a bucket of BURST writes refilled one per PACE_US (µs): a few
 * packets close together (a ping and its reply, 50 µs apart) each go out at once, a
 * steady stream at most 4,000 times a second. Once a write held FLOOD_BATCH packets or
 * more, the next waits FLOOD_PACE_US: 500 wakeups a second for the reader under a flood,
 * each with hundreds of packets (a read and its event cost the server tens of
 * microseconds whatever it holds).
 */
#define BURST 8
#define PACE_US 250
#define FLOOD_PACE_US 2000
#define FLOOD_BATCH 16
/* A batch is written at once when it holds this much, whatever the pace. */
#define FLUSH_BYTES (512 * 1024)
/* The pipe to the reader: 1 MiB (fs.pipe-max-size's default) rather than 64 KiB. */
#define PIPE_BYTES (1024 * 1024)
/* Drops are reported at most this often (ms). */
#define REPORT_MS 500

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void die(const char *what) {
  fprintf(stderr, "nslab-capture: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(const char *why) {
  fprintf(stderr, "nslab-capture: %s\nusage: nslab-capture [-s SNAPLEN] [-B KIB] [-f BYTECODE] NS\n", why);
  exit(2);
}

static long number(const char *text, long min, long max, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number from %ld to %ld", what, min, max);
    usage(msg);
  }
  return v;
}

/* "N,code jt jf k,...": tcpdump -ddd's lines joined by commas (xt_bpf's --bytecode format). */
static struct sock_filter *parse_bytecode(const char *text, unsigned *count) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(text, &end, 10);
  if (errno != 0 || end == text || n == 0 || n > BPF_MAXINSNS) usage("-f: the program length must be 1 to 4096");
  /* Three instructions in front: only frames with an Ethernet header reach the program. */
  struct sock_filter *prog = calloc(n + 4, sizeof *prog);
  if (prog == NULL) die("calloc");
  prog[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_HATYPE));
  prog[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARPHRD_ETHER, 2, 0);
  prog[2] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARPHRD_LOOPBACK, 1, 0);
  prog[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  const char *p = end;
  for (unsigned long i = 0; i < n; i += 1) {
    unsigned long f[4];
    if (*p != ',') usage("-f: fewer instructions than the length says");
    p += 1;
    for (int j = 0; j < 4; j += 1) {
      while (*p == ' ') p += 1;
      errno = 0;
      f[j] = strtoul(p, &end, 10);
      if (errno != 0 || end == p) usage("-f: an instruction is four numbers");
      p = end;
    }
    if (f[0] > 0xffff || f[1] > 0xff || f[2] > 0xff || f[3] > 0xffffffffUL) usage("-f: a number out of range");
    prog[4 + i] = (struct sock_filter){(uint16_t)f[0], (uint8_t)f[1], (uint8_t)f[2], (uint32_t)f[3]};
  }
  if (*p != '\0') usage("-f: more instructions than the length says");
  *count = (unsigned)n + 4;
  return prog;
}

static uint64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void write_all(const unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) exit(0); /* the reader is gone: nothing left to do */
      die("write");
    }
    buf += n;
    len -= (size_t)n;
  }
}

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

/* Counts: packets written, and the kernel's (tp_packets includes the drops). */
static unsigned long long captured = 0, received = 0, dropped = 0;

static void read_stats(int fd) {
  struct tpacket_stats st;
  socklen_t len = sizeof st;
  /* The kernel resets its counters on every read: these are totals since the last. */
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    received += st.tp_packets;
    dropped += st.tp_drops;
  }
}

int main(int argc, char **argv) {
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) die("prctl");
  if (getppid() != parent) return 0; /* the parent died before the signal was set */

  long snaplen = MAX_SNAPLEN, buffer_kib = 16384;
  const char *bytecode = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "s:B:f:")) != -1) {
    switch (opt) {
      case 's': snaplen = number(optarg, SLL2_LEN + 1, MAX_SNAPLEN, "-s"); break;
      case 'B': buffer_kib = number(optarg, 1, 1024 * 1024, "-B"); break;
      case 'f': bytecode = optarg; break;
      default: usage("unknown option");
    }
  }
  if (optind != argc - 1) usage("one namespace name expected");
  const char *ns = argv[optind];
  if (ns[0] == '\0' || strlen(ns) > NAME_MAX || strchr(ns, '/') != NULL || strcmp(ns, ".") == 0 || strcmp(ns, "..") == 0) usage("not a namespace name");
  unsigned prog_len = 0;
  struct sock_filter *prog = bytecode != NULL ? parse_bytecode(bytecode, &prog_len) : NULL;

  char path[sizeof NETNS_DIR + NAME_MAX];
  snprintf(path, sizeof path, "%s%s", NETNS_DIR, ns);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    /* ip's own words (`ip netns exec`), which the server and its tests know. */
    fprintf(stderr, "Cannot open network namespace \"%s\": %s\n", ns, strerror(errno));
    return 1;
  }
  if (setns(nsfd, CLONE_NEWNET) != 0) die("setns");
  close(nsfd);

  /* SOCK_RAW: the frame with its link header, which the Ethernet-compiled filter expects. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) die("socket(AF_PACKET)");
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0) die("PACKET_AUXDATA");
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) die("SO_TIMESTAMPNS");
  int rcvbuf = (int)(buffer_kib > INT_MAX / 2048 ? INT_MAX / 2 : buffer_kib * 1024);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) die("SO_RCVBUF");
  if (prog != NULL) {
    struct sock_fprog fprog = {(unsigned short)prog_len, prog};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
      fprintf(stderr, "nslab-capture: the kernel refused the filter program: %s\n", strerror(errno));
      return 2;
    }
  }
  /* Every interface, this one socket: as libpcap's "any" device. Packets queued before the
     filter was attached would have passed unfiltered: bound only now, so there are none. */
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 0};
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) die("bind");
  unsigned lo = if_nametoindex("lo");

  (void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, PIPE_BYTES); /* not a pipe, or not allowed: the default serves */
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  size_t slot = (size_t)snaplen - SLL2_LEN + LINK_ROOM;
  unsigned char *bufs = malloc(slot * BATCH);
  size_t out_cap = FLUSH_BYTES + BATCH * (RECORD_HEADER + (size_t)snaplen);
  unsigned char *out = malloc(out_cap);
  if (bufs == NULL || out == NULL) die("malloc");
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  struct sockaddr_ll from[BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } control[BATCH];

  unsigned char header[24];
  put32(header, PCAP_MAGIC_NANO);
  uint16_t version[2] = {2, 4};
  memcpy(header + 4, version, 4);
  put32(header + 8, 0);
  put32(header + 12, 0);
  put32(header + 16, (uint32_t)snaplen);
  put32(header + 20, LINKTYPE_LINUX_SLL2);
  write_all(header, sizeof header);
  fprintf(stderr, "nslab-capture: listening on any in %s, link-type LINUX_SLL2, snapshot length %ld bytes\n", ns, snaplen);

  size_t out_len = 0;
  unsigned long long batch_from = 0; /* captured when the batch being built began */
  uint64_t pace = 0; /* FLOOD_PACE_US after a flood's batch, else 0 */
  double tokens = BURST;
  uint64_t last_write = 0, last_refill = now_us(), last_report = last_refill;
  unsigned long long reported = 0;
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (;;) {
    /* Read everything ready, a batch at a time. */
    for (;;) {
      for (int i = 0; i < BATCH; i += 1) {
        iovs[i] = (struct iovec){bufs + slot * (size_t)i, slot};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iovs[i], .msg_iovlen = 1, .msg_control = control[i].buf, .msg_controllen = sizeof control[i].buf};
      }
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == ENETDOWN) break;
        die("recvmmsg");
      }
      for (int i = 0; i < n; i += 1) {
        struct sockaddr_ll *a = &from[i];
        if (a->sll_pkttype == PACKET_OUTGOING && (unsigned)a->sll_ifindex == lo) continue;
        struct tpacket_auxdata aux = {0};
        struct timespec ts = {0};
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) memcpy(&aux, CMSG_DATA(c), sizeof aux);
          else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) memcpy(&ts, CMSG_DATA(c), sizeof ts);
        }
        if (ts.tv_sec == 0 && ts.tv_nsec == 0) clock_gettime(CLOCK_REALTIME, &ts);
        size_t got = msgs[i].msg_len < slot ? msgs[i].msg_len : slot;
        size_t net = aux.tp_net <= got ? aux.tp_net : got; /* where the network header starts */
        size_t wire = aux.tp_len >= net ? aux.tp_len - net : 0;
        size_t have = got - net;
        size_t caplen = SLL2_LEN + have;
        if (caplen > (size_t)snaplen) caplen = (size_t)snaplen;
        unsigned char *r = out + out_len;
        put32(r, (uint32_t)ts.tv_sec);
        put32(r + 4, (uint32_t)ts.tv_nsec);
        put32(r + 8, (uint32_t)caplen);
        put32(r + 12, (uint32_t)(SLL2_LEN + wire));
        unsigned char *s = r + RECORD_HEADER;
        /* libpcap's SLL2 header (pcap-linux.c): protocol, zero, ifindex, hatype, pkttype, halen, addr. */
        memset(s, 0, SLL2_LEN);
        memcpy(s, &a->sll_protocol, 2);
        uint32_t ifindex = htonl((uint32_t)a->sll_ifindex);
        memcpy(s + 4, &ifindex, 4);
        uint16_t hatype = htons(a->sll_hatype);
        memcpy(s + 8, &hatype, 2);
        s[10] = a->sll_pkttype;
        s[11] = a->sll_halen;
        memcpy(s + 12, a->sll_addr, a->sll_halen > 8 ? 8 : a->sll_halen);
        memcpy(s + SLL2_LEN, (unsigned char *)iovs[i].iov_base + net, caplen - SLL2_LEN);
        out_len += RECORD_HEADER + caplen;
        captured += 1;
      }
      if (out_len >= FLUSH_BYTES) {
        write_all(out, out_len);
        out_len = 0;
        pace = FLOOD_PACE_US;
        batch_from = captured;
        last_write = now_us();
      }
      if (n < BATCH) break;
    }
    uint64_t now = now_us();
    tokens += (double)(now - last_refill) / PACE_US;
    if (tokens > BURST) tokens = BURST;
    last_refill = now;
    int wait_us = -1;
    if (out_len > 0) {
      uint64_t due = last_write + pace;
      if ((tokens >= 1 && now >= due) || stopping) {
        write_all(out, out_len);
        out_len = 0;
        tokens -= 1;
        pace = captured - batch_from >= FLOOD_BATCH ? FLOOD_PACE_US : 0;
        batch_from = captured;
        last_write = now;
      } else {
        uint64_t refill = tokens >= 1 ? 0 : (uint64_t)((1 - tokens) * PACE_US) + 1;
        uint64_t until_due = due > now ? due - now : 0;
        wait_us = (int)(refill > until_due ? refill : until_due);
      }
    }
    if (now - last_report >= REPORT_MS * 1000u) {
      read_stats(fd);
      last_report = now;
      if (dropped != reported) {
        fprintf(stderr, "nslab-capture: %llu packets dropped by kernel\n", dropped);
        reported = dropped;
      }
    }
    if (stopping) break;
    int report_wait = REPORT_MS * 1000;
    if (wait_us < 0 || wait_us > report_wait) wait_us = report_wait;
    struct timespec tmo = {wait_us / 1000000, (long)(wait_us % 1000000) * 1000};
    if (ppoll(&pfd, 1, &tmo, NULL) < 0 && errno != EINTR) die("ppoll");
  }
  /* Stopping: what the socket still holds was read by the last loop; write it and the counts. */
  if (out_len > 0) write_all(out, out_len);
  read_stats(fd);
  fprintf(stderr, "%llu packets captured\n%llu packets received by filter\n%llu packets dropped by kernel\n", captured, received, dropped);
  return 0;
}
