/*
 * nslab-ping: one long-lived process that sends ICMP echo requests from inside lab
 * namespaces, for lesson checks that ask "does ns1 reach 10.0.2.2". A `ping` process
 * per check costs an exec (and, with `ip netns exec`, a mount namespace); on a loaded
 * 2-core machine that was 20-50 ms of a check that should follow the learner's command
 * at once. This helper is asked on its standard input and answers on its standard
 * output, a line each:
 *
 *   ID NETNS DEST WAIT_MS     send one echo request to DEST (IPv4) from /run/netns/NETNS
 *   cancel ID                 forget a request (its socket is closed; no answer follows)
 *
 *   ID reply RTT_US           the echo reply came back after RTT_US microseconds
 *   ID timeout                no reply within WAIT_MS
 *   ID error TEXT             it could not be sent (no such namespace, Network is unreachable, ...)
 *
 * Each request gets a raw ICMP socket opened inside its namespace (setns there, socket,
 * setns back) and closed when it is answered: a socket left open would keep a deleted
 * namespace alive. A reply is matched by source address, identifier, sequence number and
 * a random token in the payload, so a learner's own ping in the same namespace is never
 * taken for ours. It ends when its input closes (the server went away) or its parent dies.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUESTS 256
#define LINE_MAX_BYTES 512
#define TOKEN_BYTES 8
/* The payload `ping` sends by default, so a learner's tcpdump shows the usual 64-byte ICMP message. */
#define PAYLOAD_BYTES 56

struct request {
  long id;
  int fd;                 /* -1: free slot */
  struct in_addr dst;
  uint16_t ident, seq;
  unsigned char token[TOKEN_BYTES];
  long long sent_ns, deadline_ns;
};

static struct request requests[MAX_REQUESTS];
static int home_fd;
static uint16_t next_ident;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void answer(long id, const char *what) {
  /* One write per line: the reader splits on newlines, and a line never straddles writes. */
  char line[LINE_MAX_BYTES];
  int n = snprintf(line, sizeof line, "%ld %s\n", id, what);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1, line[n - 1] = '\n';
  if (write(STDOUT_FILENO, line, (size_t)n) < 0) exit(0); /* the reader is gone */
}

static void answer_errno(long id, const char *doing, int err) {
  char text[256];
  snprintf(text, sizeof text, "error %s: %s", doing, strerror(err));
  answer(id, text);
}

static void release(struct request *r) {
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
}

static uint16_t checksum(const void *data, size_t len) {
  const uint8_t *p = data;
  uint32_t sum = 0;
  for (; len > 1; p += 2, len -= 2) sum += (uint32_t)p[0] << 8 | p[1];
  if (len == 1) sum += (uint32_t)p[0] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

/* A namespace name as /run/netns holds it: one path component, not . or .., not empty. */
static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 255 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
  return strchr(name, '/') == NULL;
}

/* Opens a raw ICMP socket inside /run/netns/NAME; -1 with errno set when it cannot. */
static int socket_in(const char *name) {
  char path[300];
  snprintf(path, sizeof path, "/run/netns/%s", name);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  if (setns(ns, CLONE_NEWNET) < 0) {
    int err = errno;
    close(ns);
    errno = err;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  int err = errno;
  /* Back home before anything else: every later request starts from here. */
  if (setns(home_fd, CLONE_NEWNET) < 0) {
    perror("nslab-ping: setns back to its own namespace");
    exit(1);
  }
  close(ns);
  errno = err;
  if (fd >= 0) {
    /* Only echo replies reach this socket. */
    struct icmp_filter filter = { .data = ~(1U << ICMP_ECHOREPLY) };
    setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
  }
  return fd;
}

static void start_request(long id, const char *name, const char *dest, long wait_ms) {
  struct request *r = NULL;
  for (int i = 0; i < MAX_REQUESTS && !r; i++)
    if (requests[i].fd < 0) r = &requests[i];
  if (!r) { answer(id, "error too many pings in flight"); return; }
  if (!valid_name(name)) { answer(id, "error not a namespace name"); return; }
  struct in_addr dst;
  if (inet_pton(AF_INET, dest, &dst) != 1) { answer(id, "error not an IPv4 address"); return; }
  int fd = socket_in(name);
  if (fd < 0) { answer_errno(id, name, errno); return; }

  r->id = id;
  r->fd = fd;
  r->dst = dst;
  r->ident = next_ident++;
  r->seq = 1;
  if (getrandom(r->token, sizeof r->token, 0) != (ssize_t)sizeof r->token) memset(r->token, (int)(id & 0xff), sizeof r->token);

  unsigned char packet[sizeof(struct icmphdr) + PAYLOAD_BYTES];
  struct icmphdr *icmp = (struct icmphdr *)packet;
  memset(packet, 0, sizeof packet);
  icmp->type = ICMP_ECHO;
  icmp->un.echo.id = htons(r->ident);
  icmp->un.echo.sequence = htons(r->seq);
  memcpy(packet + sizeof *icmp, r->token, TOKEN_BYTES);
  icmp->checksum = checksum(packet, sizeof packet);

  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };
  r->sent_ns = now_ns();
  r->deadline_ns = r->sent_ns + wait_ms * 1000000LL;
  if (sendto(fd, packet, sizeof packet, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    answer_errno(id, "sendto", errno);
    release(r);
  }
}

/* Reads what arrived on a request's socket; answers and frees it on its reply. */
static void receive(struct request *r) {
  unsigned char buf[1500];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(r->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) return; /* EAGAIN: nothing more now */
    if (from.sin_addr.s_addr != r->dst.s_addr || n < (ssize_t)sizeof(struct iphdr)) continue;
    const struct iphdr *ip = (const struct iphdr *)buf;
    size_t ihl = (size_t)ip->ihl * 4;
    if ((size_t)n < ihl + sizeof(struct icmphdr) + TOKEN_BYTES) continue;
    const struct icmphdr *icmp = (const struct icmphdr *)(buf + ihl);
    if (icmp->type != ICMP_ECHOREPLY || ntohs(icmp->un.echo.id) != r->ident || ntohs(icmp->un.echo.sequence) != r->seq) continue;
    if (memcmp(buf + ihl + sizeof *icmp, r->token, TOKEN_BYTES) != 0) continue;
    char text[64];
    snprintf(text, sizeof text, "reply %lld", (now_ns() - r->sent_ns) / 1000);
    answer(r->id, text);
    release(r);
    return;
  }
}

static void cancel(long id) {
  for (int i = 0; i < MAX_REQUESTS; i++)
    if (requests[i].fd >= 0 && requests[i].id == id) release(&requests[i]);
}

/* One input line: a request or a cancel. A line that is neither is answered with an error when it names an id. */
static void command(char *line) {
  char name[LINE_MAX_BYTES], dest[LINE_MAX_BYTES], extra[2];
  long id, wait_ms;
  if (sscanf(line, "cancel %ld %1s", &id, extra) == 1) { cancel(id); return; }
  int got = sscanf(line, "%ld %511s %511s %ld %1s", &id, name, dest, &wait_ms, extra);
  if (got == 4 && wait_ms > 0 && wait_ms <= 60000 && id >= 0) start_request(id, name, dest, wait_ms);
  else if (got >= 1) answer(id, "error expected: ID NETNS DEST WAIT_MS");
  else fprintf(stderr, "nslab-ping: ignoring a line that names no request\n");
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: nslab-ping  (requests on standard input: ID NETNS DEST WAIT_MS | cancel ID)\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 0; /* the parent died before the line above */
  signal(SIGPIPE, SIG_IGN);
  home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_fd < 0) { perror("nslab-ping: /proc/self/ns/net"); return 1; }
  for (int i = 0; i < MAX_REQUESTS; i++) requests[i].fd = -1;
  if (getrandom(&next_ident, sizeof next_ident, 0) != (ssize_t)sizeof next_ident) next_ident = (uint16_t)getpid();

  char input[8192];
  size_t have = 0;
  int input_open = 1;
  struct pollfd fds[MAX_REQUESTS + 1];
  int index_of[MAX_REQUESTS + 1];
  for (;;) {
    int n = 0;
    int live = 0;
    long long next_deadline = -1;
    if (input_open) fds[n].fd = STDIN_FILENO, fds[n].events = POLLIN, index_of[n++] = -1;
    for (int i = 0; i < MAX_REQUESTS; i++) {
      if (requests[i].fd < 0) continue;
      live++;
      fds[n].fd = requests[i].fd, fds[n].events = POLLIN, index_of[n++] = i;
      if (next_deadline < 0 || requests[i].deadline_ns < next_deadline) next_deadline = requests[i].deadline_ns;
    }
    if (!input_open && live == 0) return 0;
    int timeout = -1;
    if (next_deadline >= 0) {
      long long left = next_deadline - now_ns();
      timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) { perror("nslab-ping: poll"); return 1; }
    for (int k = 0; k < n; k++) {
      if (!fds[k].revents) continue;
      if (index_of[k] >= 0) { receive(&requests[index_of[k]]); continue; }
      ssize_t got = read(STDIN_FILENO, input + have, sizeof input - 1 - have);
      if (got <= 0) { input_open = 0; continue; }
      have += (size_t)got;
      char *start = input, *nl;
      while ((nl = memchr(start, '\n', have - (size_t)(start - input)))) {
        *nl = '\0';
        command(start);
        start = nl + 1;
      }
      have -= (size_t)(start - input);
      memmove(input, start, have);
      if (have == sizeof input - 1) { fprintf(stderr, "nslab-ping: dropping an over-long input line\n"); have = 0; }
    }
    long long now = now_ns();
    for (int i = 0; i < MAX_REQUESTS; i++) {
      if (requests[i].fd >= 0 && requests[i].deadline_ns <= now) {
        answer(requests[i].id, "timeout");
        release(&requests[i]);
      }
    }
  }
}
