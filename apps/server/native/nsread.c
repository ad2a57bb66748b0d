/*
 * nslab-nsread: reads many network namespaces from one process.
 *
 * Reading a namespace with `ip -n NS -j ...` costs one process per namespace, and a
 * process costs ~3-7 ms on the machines nslab runs on: a 100-namespace lab took
 * ~500 ms to read that way. This helper enters each namespace in turn (setns) and
 * asks the kernel directly over rtnetlink, so a whole lab is one process. It does
 * not interpret what it reads: it passes the kernel's netlink messages through, and
 * the server decodes them (apps/server/src/kernel/nsread.ts and rtnetlink.ts).
 *
 * Usage (namespaces are names under /run/netns):
 *   nslab-nsread read NS... [-- CANDIDATE...]
 *       For each NS: its links, addresses, IPv4 routes and IPv4 netconf (raw
 *       rtnetlink dumps), how many nftables and legacy iptables tables it has, and
 *       the names of the namespaces its nsids stand for. Each nsid is looked up
 *       first where a device mirrors ours (see resolve_nsids), then among the NS
 *       and CANDIDATE lists, then among every name in /run/netns.
 *   nslab-nsread owner NS...
 *       For each NS: lo's link message only (the ownership marker is lo's alias).
 *   nslab-nsread exec NS -- CMD ARG...
 *       Runs CMD inside NS's network namespace (like `ip netns exec`, minus the
 *       mount namespace, which the commands nslab runs this way do not need).
 *   nslab-nsread sysctls NS KEY=VALUE... [-- NS KEY=VALUE...]...
 *       Writes each group's sysctls inside its NS, entering one after another: one
 *       process for a whole apply, where one per namespace made a 100-namespace
 *       apply twice its ip -batch build (see write_many). Prints a line per group
 *       stopped by a refused write, naming the key.
 *   nslab-nsread watch
 *       Says when a watched namespace changes: devices, addresses, routes,
 *       forwarding, firewall (see watch_loop).
 *   nslab-nsread create NS MARKER [KEY=VALUE...]
 *       Makes NS as `ip netns add NS` does, then, from inside it, sets lo's alias
 *       to MARKER and lo up, and writes each sysctl KEY (net.*, dotted) = VALUE:
 *       one process where ip netns add, ip -n NS link set lo ... and one
 *       ip netns exec NS sysctl per key were four to six (see create_netns).
 *       Its output is then NS's frames, as `read NS` would write them.
 *
 * Output: frames of [u32 index][u32 tag][u32 length][length bytes], in host byte
 * order, where index is the position of NS in the list. A namespace that cannot be
 * entered gets one TAG_ERROR frame (u32 errno, then the message) and no others.
 * Exit status: 0 when every frame was written (per-namespace errors included), 2 for
 * bad usage, 1 for an error that stops the whole read.
 *
 * Every argument is a name, checked before use; nothing passes through a shell.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netconf.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  TAG_LINKS = 1,    /* RTM_NEWLINK messages */
  TAG_ADDRS = 2,    /* RTM_NEWADDR messages */
  TAG_ROUTES = 3,   /* RTM_NEWROUTE messages, AF_INET, every table */
  TAG_NETCONF = 4,  /* RTM_NEWNETCONF messages, AF_INET */
  TAG_NSID = 5,     /* s32 nsid, then the name it stands for */
  TAG_TABLES = 6,   /* u32 nftables tables, u32 legacy iptables tables */
  TAG_ERROR = 7,    /* u32 errno, then a message */
};

#define NETNS_DIR "/run/netns"
/* The kernel's ALIAS_SIZE (include/linux/if.h): an alias is shorter than this. */
#define ALIAS_SIZE 256
/* The kernel's LOOPBACK_IFINDEX: lo is the first device of every namespace. */
#define LOOPBACK_IFINDEX 1
/* Large enough for any one netlink dump chunk (the kernel sends at most ~32 KiB). */
#define RECV_BUFFER (64 * 1024)

static unsigned char recv_buffer[RECV_BUFFER];
static unsigned char *out_buffer;
static size_t out_len, out_cap;

static void die(const char *what) {
  fprintf(stderr, "nslab-nsread: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void out_append(const void *data, size_t len) {
  if (out_len + len > out_cap) {
    size_t cap = out_cap ? out_cap : 1 << 16;
    while (cap < out_len + len) cap *= 2;
    unsigned char *grown = realloc(out_buffer, cap);
    if (!grown) die("out of memory");
    out_buffer = grown;
    out_cap = cap;
  }
  memcpy(out_buffer + out_len, data, len);
  out_len += len;
}

static void out_flush(void) {
  size_t done = 0;
  while (done < out_len) {
    ssize_t n = write(STDOUT_FILENO, out_buffer + done, out_len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    done += (size_t)n;
  }
  out_len = 0;
}

/* Starts a frame and returns where its length goes, filled in by frame_end. */
static size_t frame_begin(uint32_t index, uint32_t tag) {
  uint32_t head[3] = {index, tag, 0};
  out_append(head, sizeof head);
  return out_len - sizeof(uint32_t);
}

static void frame_end(size_t length_at) {
  uint32_t len = (uint32_t)(out_len - length_at - sizeof(uint32_t));
  memcpy(out_buffer + length_at, &len, sizeof len);
}

static void frame_error(uint32_t index, int err, const char *message) {
  size_t at = frame_begin(index, TAG_ERROR);
  uint32_t code = (uint32_t)err;
  out_append(&code, sizeof code);
  out_append(message, strlen(message));
  frame_end(at);
}

/* A name under /run/netns: what `ip netns add` accepts, and nothing that leaves the directory. */
static int valid_name(const char *name) {
  size_t len = strlen(name);
  return len > 0 && len < 256 && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int open_netns(const char *name) {
  char path[sizeof NETNS_DIR + 256];
  snprintf(path, sizeof path, "%s/%s", NETNS_DIR, name);
  return open(path, O_RDONLY | O_CLOEXEC);
}

static int nl_open(int protocol) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -1;
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static uint32_t seq;

static int nl_send(int fd, const void *request, size_t len) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  for (;;) {
    ssize_t n = sendto(fd, request, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (n >= 0) return 0;
    if (errno != EINTR) return -1;
  }
}

/*
 * Receives the answer to the request with sequence number `want`. With `keep`, the
 * messages (all but DONE and ERROR) are appended to the output as they come.
 * Returns 0, or the negative errno the kernel answered with.
 */
static int nl_receive(int fd, uint32_t want, int keep, void (*each)(const struct nlmsghdr *, void *), void *ctx) {
  for (;;) {
    ssize_t n = recv(fd, recv_buffer, sizeof recv_buffer, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)recv_buffer; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != want) continue;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error;
      }
      if (keep) out_append(h, h->nlmsg_len);
      if (each) each(h, ctx);
      if (!(h->nlmsg_flags & NLM_F_MULTI)) return 0;
    }
  }
}

/* A request: the netlink header, a family header of up to 16 bytes, and room for one attribute. */
struct request {
  struct nlmsghdr header;
  unsigned char body[16 + 8];
};

static size_t request_init(struct request *r, uint16_t type, uint16_t flags, const void *family, size_t family_len) {
  memset(r, 0, sizeof *r);
  r->header.nlmsg_type = type;
  r->header.nlmsg_flags = NLM_F_REQUEST | flags;
  r->header.nlmsg_seq = ++seq;
  memcpy(r->body, family, family_len);
  r->header.nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(family_len));
  return r->header.nlmsg_len;
}

static void request_attr_u32(struct request *r, uint16_t type, uint32_t value) {
  struct rtattr *a = (struct rtattr *)((unsigned char *)r + NLMSG_ALIGN(r->header.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(sizeof value);
  memcpy(RTA_DATA(a), &value, sizeof value);
  r->header.nlmsg_len = NLMSG_ALIGN(r->header.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* One dump into one frame. A dump the kernel refuses leaves the frame empty. */
static int dump_frame(int fd, uint32_t index, uint32_t tag, uint16_t type, const void *family, size_t family_len) {
  struct request r;
  size_t len = request_init(&r, type, NLM_F_DUMP, family, family_len);
  if (nl_send(fd, &r, len) < 0) return -1;
  size_t at = frame_begin(index, tag);
  int err = nl_receive(fd, r.header.nlmsg_seq, 1, NULL, NULL);
  frame_end(at);
  return err == -EINTR ? -1 : 0;
}

/* A device whose peer is in another namespace, which this namespace calls `nsid`. */
struct peer_ref {
  int32_t ifindex, peer_ifindex, nsid;
};

/* One namespace of the command line: read (the first `count`) or only a candidate. */
struct netns {
  const char *name;
  int fd, open_error;
  int read_ok;
  struct peer_ref *refs;
  size_t nrefs, cap;
};

static struct netns *spaces;
static size_t space_count, read_count;

static void collect_ref(const struct nlmsghdr *h, void *ctx) {
  struct netns *ns = ctx;
  if (h->nlmsg_type != RTM_NEWLINK) return;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  int len = (int)IFLA_PAYLOAD(h);
  struct peer_ref ref = {.ifindex = ifi->ifi_index, .peer_ifindex = 0, .nsid = -1};
  for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (RTA_PAYLOAD(a) < sizeof(int32_t)) continue;
    if (a->rta_type == IFLA_LINK_NETNSID) memcpy(&ref.nsid, RTA_DATA(a), sizeof ref.nsid);
    if (a->rta_type == IFLA_LINK) memcpy(&ref.peer_ifindex, RTA_DATA(a), sizeof ref.peer_ifindex);
  }
  if (ref.nsid < 0) return;
  if (ns->nrefs == ns->cap) {
    ns->cap = ns->cap ? ns->cap * 2 : 8;
    ns->refs = realloc(ns->refs, ns->cap * sizeof *ns->refs);
    if (!ns->refs) die("out of memory");
  }
  ns->refs[ns->nrefs++] = ref;
}

/* The nsid this namespace gives the namespace behind `netns_fd`, or -1 if none. */
static void read_nsid_answer(const struct nlmsghdr *h, void *ctx) {
  if (h->nlmsg_type != RTM_NEWNSID) return;
  const struct rtgenmsg *g = NLMSG_DATA(h);
  int len = (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *g)));
  for (const struct rtattr *a = (const struct rtattr *)((const unsigned char *)g + NLMSG_ALIGN(sizeof *g)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= sizeof(int32_t)) memcpy(ctx, RTA_DATA(a), sizeof(int32_t));
  }
}

static int32_t nsid_of(int fd, int netns_fd) {
  struct rtgenmsg family = {.rtgen_family = AF_UNSPEC};
  struct request r;
  request_init(&r, RTM_GETNSID, 0, &family, sizeof family);
  request_attr_u32(&r, NETNSA_FD, (uint32_t)netns_fd);
  if (nl_send(fd, &r, r.header.nlmsg_len) < 0) return -1;
  int32_t id = -1;
  if (nl_receive(fd, r.header.nlmsg_seq, 0, read_nsid_answer, &id) != 0) return -1;
  return id;
}

static void emit_nsid(uint32_t index, int32_t id, const char *name) {
  size_t at = frame_begin(index, TAG_NSID);
  out_append(&id, sizeof id);
  out_append(name, strlen(name));
  frame_end(at);
}

/* The distinct nsids a namespace's devices refer to, not yet named. */
struct wanted {
  int32_t *ids;
  size_t count;
};

/* Asks the current namespace (socket `fd`) for the nsid of `netns_fd`; names it if wanted. */
static void try_candidate(int fd, uint32_t index, struct wanted *w, int netns_fd, const char *name) {
  int32_t id = nsid_of(fd, netns_fd);
  for (size_t j = 0; id >= 0 && j < w->count; j += 1) {
    if (w->ids[j] == id) {
      emit_nsid(index, id, name);
      w->ids[j] = w->ids[--w->count];
      return;
    }
  }
}

static int still_wanted(const struct wanted *w, int32_t id) {
  for (size_t j = 0; j < w->count; j += 1)
    if (w->ids[j] == id) return 1;
  return 0;
}

/*
 * Names the nsids of namespace `index` (entered, socket `fd`). The kernel answers
 * "which nsid do you give this namespace" but not the reverse, so each answer costs a
 * question. To ask few: first the namespaces holding a device that looks like the
 * other end (its ifindex is our device's peer and its peer is our device), then the
 * other namespaces named, then every namespace in /run/netns.
 */
static void resolve_nsids(int fd, uint32_t index) {
  struct netns *self = &spaces[index];
  struct wanted w = {.ids = calloc(self->nrefs + 1, sizeof(int32_t)), .count = 0};
  if (!w.ids) die("out of memory");
  for (size_t i = 0; i < self->nrefs; i += 1)
    if (!still_wanted(&w, self->refs[i].nsid)) w.ids[w.count++] = self->refs[i].nsid;

  for (size_t i = 0; i < self->nrefs && w.count > 0; i += 1) {
    const struct peer_ref *mine = &self->refs[i];
    for (size_t b = 0; b < read_count && still_wanted(&w, mine->nsid); b += 1) {
      if (b == index || spaces[b].fd < 0) continue;
      for (size_t k = 0; k < spaces[b].nrefs; k += 1) {
        const struct peer_ref *theirs = &spaces[b].refs[k];
        if (theirs->ifindex == mine->peer_ifindex && theirs->peer_ifindex == mine->ifindex) {
          try_candidate(fd, index, &w, spaces[b].fd, spaces[b].name);
          break;
        }
      }
    }
  }
  for (size_t b = 0; b < space_count && w.count > 0; b += 1) {
    if (b != index && spaces[b].fd >= 0) try_candidate(fd, index, &w, spaces[b].fd, spaces[b].name);
  }
  if (w.count > 0) {
    /* Peers outside the namespaces named: look through every named namespace. */
    DIR *dir = opendir(NETNS_DIR);
    struct dirent *entry;
    while (dir && w.count > 0 && (entry = readdir(dir)) != NULL) {
      if (!valid_name(entry->d_name)) continue;
      int named = 0;
      for (size_t b = 0; b < space_count && !named; b += 1) named = strcmp(spaces[b].name, entry->d_name) == 0;
      if (named) continue;
      int netns_fd = open_netns(entry->d_name);
      if (netns_fd < 0) continue;
      try_candidate(fd, index, &w, netns_fd, entry->d_name);
      close(netns_fd);
    }
    if (dir) closedir(dir);
  }
  free(w.ids);
}

/* Tables of nftables (iptables-nft keeps its rules there) in the current namespace. */
static void count_table(const struct nlmsghdr *h, void *ctx) {
  if (h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE)) *(uint32_t *)ctx += 1;
}

static uint32_t nft_tables(void) {
  int fd = nl_open(NETLINK_NETFILTER);
  if (fd < 0) return 0;
  struct nfgenmsg family = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0};
  struct request r;
  size_t len = request_init(&r, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_DUMP, &family, sizeof family);
  uint32_t count = 0;
  if (nl_send(fd, &r, len) == 0) nl_receive(fd, r.header.nlmsg_seq, 0, count_table, &count);
  close(fd);
  return count;
}

/* Tables of legacy iptables in the current namespace (they are made per namespace on first use). */
static uint32_t legacy_tables(void) {
  FILE *f = fopen("/proc/self/net/ip_tables_names", "re");
  if (!f) return 0;
  uint32_t count = 0;
  char line[64];
  while (fgets(line, sizeof line, f)) count += 1;
  fclose(f);
  return count;
}

/* Reads the namespace just entered; its nsids are named later (resolve_nsids), once every namespace has been read. */
static void read_namespace(uint32_t index) {
  int fd = nl_open(NETLINK_ROUTE);
  if (fd < 0) {
    frame_error(index, errno, "cannot open a netlink socket");
    return;
  }
  struct ifinfomsg link = {.ifi_family = AF_UNSPEC};
  struct request r;
  size_t len = request_init(&r, RTM_GETLINK, NLM_F_DUMP, &link, sizeof link);
  if (nl_send(fd, &r, len) < 0) die("sendto");
  size_t at = frame_begin(index, TAG_LINKS);
  nl_receive(fd, r.header.nlmsg_seq, 1, collect_ref, &spaces[index]);
  frame_end(at);

  struct ifaddrmsg addr = {.ifa_family = AF_UNSPEC};
  struct rtmsg route = {.rtm_family = AF_INET};
  struct netconfmsg netconf = {.ncm_family = AF_INET};
  if (dump_frame(fd, index, TAG_ADDRS, RTM_GETADDR, &addr, sizeof addr) < 0 ||
      dump_frame(fd, index, TAG_ROUTES, RTM_GETROUTE, &route, sizeof route) < 0 ||
      dump_frame(fd, index, TAG_NETCONF, RTM_GETNETCONF, &netconf, sizeof netconf) < 0) {
    die("netlink");
  }
  close(fd);

  uint32_t tables[2] = {nft_tables(), legacy_tables()};
  at = frame_begin(index, TAG_TABLES);
  out_append(tables, sizeof tables);
  frame_end(at);
  spaces[index].read_ok = 1;
}

static void read_owner(uint32_t index) {
  int fd = nl_open(NETLINK_ROUTE);
  if (fd < 0) {
    frame_error(index, errno, "cannot open a netlink socket");
    return;
  }
  struct ifinfomsg lo = {.ifi_family = AF_UNSPEC, .ifi_index = LOOPBACK_IFINDEX};
  struct request r;
  request_init(&r, RTM_GETLINK, 0, &lo, sizeof lo);
  /* Only the alias is wanted: leave the counters out of the answer. */
  request_attr_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  if (nl_send(fd, &r, r.header.nlmsg_len) < 0) die("sendto");
  size_t at = frame_begin(index, TAG_LINKS);
  nl_receive(fd, r.header.nlmsg_seq, 1, NULL, NULL);
  frame_end(at);
  close(fd);
}

/*
 * watch: one process that tells when anything nslab shows changes in any watched
 * namespace: its devices, addresses, routes and forwarding (rtnetlink groups) and its
 * firewall (NFNLGRP_NFTABLES, where iptables-nft's changes are announced). It replaces
 * `ip monitor all-nsid` (which needs an nsid for every namespace in the root
 * namespace) and one `nft monitor` (two processes, with `ip netns exec`) per namespace.
 * stdin: "+NAME" starts watching, "-NAME" stops (and closes the sockets, which would
 * otherwise keep a deleted namespace alive). stdout: "+NAME" once it listens (so a
 * caller knows no change can slip by), "!NAME" when it cannot watch it, and "=NAME"
 * after a change (one line per wake-up, however many messages). Ends when stdin closes.
 */
struct watched {
  char name[256];
  int route_fd, nft_fd;
};

/* What `ip monitor` shows that nslab reads: links, IPv4/IPv6 addresses and routes, netconf. */
static const int ROUTE_GROUPS[] = {
  RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF,
};

/* A non-blocking netlink socket of `protocol` in the current namespace, in the given groups. */
static int subscribe(int protocol, const int *groups, size_t count) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd < 0) return -1;
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  int ok = bind(fd, (struct sockaddr *)&local, sizeof local) == 0;
  for (size_t i = 0; ok && i < count; i += 1) ok = setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof groups[i]) == 0;
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

/*
 * Opens the watch sockets inside `name`, then goes back `home`: a process that stayed
 * in the namespace would keep it alive after `ip netns del`, sockets closed or not.
 */
static int watch_add(struct watched *w, const char *name, int home) {
  int netns = open_netns(name);
  if (netns < 0) return -1;
  int ok = setns(netns, CLONE_NEWNET);
  close(netns);
  if (ok < 0) return -1;
  static const int NFT_GROUPS[] = {NFNLGRP_NFTABLES};
  int route_fd = subscribe(NETLINK_ROUTE, ROUTE_GROUPS, sizeof ROUTE_GROUPS / sizeof ROUTE_GROUPS[0]);
  int nft_fd = subscribe(NETLINK_NETFILTER, NFT_GROUPS, 1);
  if (setns(home, CLONE_NEWNET) < 0) die("setns back");
  if (route_fd < 0 || nft_fd < 0) {
    if (route_fd >= 0) close(route_fd);
    if (nft_fd >= 0) close(nft_fd);
    return -1;
  }
  snprintf(w->name, sizeof w->name, "%s", name);
  w->route_fd = route_fd;
  w->nft_fd = nft_fd;
  return 0;
}

/* Reads everything waiting on a socket; what changed is read again from the kernel, so only "something did" matters. */
static void drain(int fd) {
  ssize_t n;
  while ((n = recv(fd, recv_buffer, sizeof recv_buffer, 0)) > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR))) {}
}

static void say(const char *prefix, const char *name) {
  out_append(prefix, strlen(prefix));
  out_append(name, strlen(name));
  out_append("\n", 1);
}

static int watch_loop(void) {
  size_t count = 0, cap = 64;
  struct watched *list = calloc(cap, sizeof *list);
  struct pollfd *polls = calloc(2 * cap + 1, sizeof *polls);
  /* A sign, a name of at most 255 bytes (valid_name), a NUL; longer lines are ignored whole. */
  char line[257];
  size_t line_len = 0;
  int overlong = 0;
  if (!list || !polls) die("out of memory");
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die("/proc/self/ns/net");
  /* Two sockets per namespace: allow as many descriptors as the hard limit does. */
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  for (;;) {
    polls[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    for (size_t i = 0; i < count; i += 1) {
      polls[2 * i + 1] = (struct pollfd){.fd = list[i].route_fd, .events = POLLIN};
      polls[2 * i + 2] = (struct pollfd){.fd = list[i].nft_fd, .events = POLLIN};
    }
    if (poll(polls, 2 * count + 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (size_t i = 0; i < count; i += 1) {
      if (!polls[2 * i + 1].revents && !polls[2 * i + 2].revents) continue;
      if (polls[2 * i + 1].revents) drain(list[i].route_fd);
      if (polls[2 * i + 2].revents) drain(list[i].nft_fd);
      say("=", list[i].name);
    }
    if (polls[0].revents) {
      char chunk[4096];
      ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t k = 0; k < n; k += 1) {
        if (chunk[k] != '\n') {
          if (line_len < sizeof line - 1) line[line_len++] = chunk[k];
          else overlong = 1;
          continue;
        }
        line[line_len] = '\0';
        if (overlong) {
          overlong = 0;
          line_len = 0;
          continue;
        }
        const char *name = line + 1;
        size_t at = 0;
        while (at < count && strcmp(list[at].name, name) != 0) at += 1;
        if (line_len > 1 && line[0] == '+' && valid_name(name) && at < count) {
          say("+", name);
        } else if (line_len > 1 && line[0] == '+' && valid_name(name)) {
          if (count == cap) {
            cap *= 2;
            list = realloc(list, cap * sizeof *list);
            polls = realloc(polls, (2 * cap + 1) * sizeof *polls);
            if (!list || !polls) die("out of memory");
          }
          if (watch_add(&list[count], name, home) == 0) {
            count += 1;
            say("+", name);
          } else {
            say("!", name);
          }
        } else if (line_len > 1 && line[0] == '-' && at < count) {
          close(list[at].route_fd);
          close(list[at].nft_fd);
          list[at] = list[--count];
        }
        line_len = 0;
      }
    }
    out_flush();
  }
  out_flush();
  return 0;
}

/*
 * A sysctl name nslab writes: net.*, no empty part, of letters, digits, '_' and '-' (an interface
 * name such as veth-a has one: net.ipv4.conf.veth-a.rp_filter) between dots; or, for an
 * interface whose name has a dot, the same with '/' for the separators (as sysctl(8) takes it:
 * net/ipv4/conf/eth0.5/rp_filter), where a part is never "." or "..".
 */
static int valid_sysctl(const char *key) {
  int slashed = strchr(key, '/') != NULL;
  char sep = slashed ? '/' : '.';
  if (strncmp(key, slashed ? "net/" : "net.", 4) != 0 || strlen(key) > 200) return 0;
  for (const char *c = key; *c; c += 1) {
    int word = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
    if (!word && *c != sep && !(slashed && *c == '.')) return 0;
    if (*c == sep && (c[1] == sep || c[1] == '\0')) return 0;
    if (slashed && *c == '/' && c[1] == '.' && (c[2] == '/' || c[2] == '\0' || (c[2] == '.' && (c[3] == '/' || c[3] == '\0')))) return 0;
  }
  return 1;
}

/* Sets lo's alias and brings it up, in the current namespace; 0 or a negative errno. */
static int mark_loopback(const char *marker) {
  int fd = nl_open(NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct {
    struct nlmsghdr header;
    struct ifinfomsg link;
    unsigned char attrs[RTA_SPACE(ALIAS_SIZE)];
  } r;
  memset(&r, 0, sizeof r);
  r.header.nlmsg_type = RTM_NEWLINK;
  r.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  r.header.nlmsg_seq = ++seq;
  r.link.ifi_family = AF_UNSPEC;
  r.link.ifi_index = LOOPBACK_IFINDEX;
  r.link.ifi_flags = 1; /* IFF_UP */
  r.link.ifi_change = 1;
  struct rtattr *a = (struct rtattr *)r.attrs;
  a->rta_type = IFLA_IFALIAS;
  a->rta_len = RTA_LENGTH(strlen(marker));
  memcpy(RTA_DATA(a), marker, strlen(marker));
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof r.link) + RTA_ALIGN(a->rta_len);
  int err = nl_send(fd, &r, r.header.nlmsg_len) < 0 ? -errno : nl_receive(fd, r.header.nlmsg_seq, 0, NULL, NULL);
  close(fd);
  return err;
}

/* Writes KEY=VALUE under /proc/sys, which shows the sysctls of the namespace the writer is in. */
static int write_sysctl(const char *assignment) {
  const char *eq = strchr(assignment, '=');
  char key[256];
  if (!eq || (size_t)(eq - assignment) >= sizeof key) return -EINVAL;
  memcpy(key, assignment, (size_t)(eq - assignment));
  key[eq - assignment] = '\0';
  if (!valid_sysctl(key) || eq[1] == '\0' || strlen(eq + 1) > 32) return -EINVAL;
  char path[sizeof "/proc/sys/" + sizeof key];
  snprintf(path, sizeof path, "/proc/sys/%s", key);
  if (!strchr(key, '/'))
    for (char *c = path + sizeof "/proc/sys/" - 1; *c; c += 1)
      if (*c == '.') *c = '/';
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, eq + 1, strlen(eq + 1));
  int err = n < 0 ? -errno : 0;
  close(fd);
  return err;
}

/*
 * create: `ip netns add` (iproute2 6.1 ip/ipnetns.c netns_add: /run/netns made a shared mount,
 * bound on itself first if it is not a mount point yet, an empty file created exclusively, the
 * process's new namespace bind-mounted on it), then the lab's marker and sysctls from inside the
 * new namespace. Whatever fails after the file was made is undone: no half-made node is left.
 */
static int create_netns(const char *name, const char *marker, char **sysctls, int count) {
  char path[sizeof NETNS_DIR + 256];
  snprintf(path, sizeof path, "%s/%s", NETNS_DIR, name);
  if (strlen(marker) == 0 || strlen(marker) >= ALIAS_SIZE) {
    fprintf(stderr, "nslab-nsread: the marker must be 1-%d bytes\n", ALIAS_SIZE - 1);
    return 2;
  }
  for (int i = 0; i < count; i += 1) {
    const char *eq = strchr(sysctls[i], '=');
    if (!eq) {
      fprintf(stderr, "nslab-nsread: not KEY=VALUE: %s\n", sysctls[i]);
      return 2;
    }
  }
  if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST) {
    fprintf(stderr, "nslab-nsread: cannot create %s: %s\n", NETNS_DIR, strerror(errno));
    return 1;
  }
  int bound = 0;
  while (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
    if (errno != EINVAL || bound || mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0) {
      fprintf(stderr, "nslab-nsread: cannot make %s a shared mount: %s\n", NETNS_DIR, strerror(errno));
      return 1;
    }
    bound = 1;
  }
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "nslab-nsread: cannot create namespace file \"%s\": %s\n", path, strerror(errno));
    return 1;
  }
  close(fd);
  const char *step = "unshare";
  int err = 0;
  if (unshare(CLONE_NEWNET) < 0) {
    err = errno;
  } else if (step = "bind", mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0) {
    err = errno;
  } else {
    step = "mark lo";
    err = -mark_loopback(marker);
    for (int i = 0; err == 0 && i < count; i += 1) {
      step = sysctls[i];
      err = -write_sysctl(sysctls[i]);
    }
    if (err != 0) umount2(path, MNT_DETACH);
  }
  if (err != 0) {
    unlink(path);
    fprintf(stderr, "nslab-nsread: creating namespace %s failed at %s: %s\n", name, step, strerror(err));
    return 1;
  }
  /* Still inside it: its reading, as `read NS` gives it, so the server needs no second process to show it. */
  spaces = calloc(1, sizeof *spaces);
  if (!spaces) die("out of memory");
  spaces[0] = (struct netns){.name = name, .fd = -1};
  space_count = read_count = 1;
  read_namespace(0);
  out_flush();
  return 0;
}

/*
 * sysctls: writes the sysctls of many namespaces from one process. Each group is NS and its
 * KEY=VALUE assignments; groups are separated by "--". The process enters each NS in turn
 * (setns) and writes under /proc/sys, which follows the writer's network namespace. A group
 * stops at its first refused write, and stdout gets one line for it, "NS<TAB>KEY<TAB>reason",
 * so the caller can name the refused key; the other groups are still written.
 * Exit status: 0 when every assignment was written, 1 when some group stopped, 2 for bad usage.
 */
static int write_many(int argc, char **argv) {
  int failed = 0;
  int i = 2;
  while (i < argc) {
    const char *name = argv[i];
    if (!valid_name(name) || strcmp(name, "--") == 0) {
      fprintf(stderr, "nslab-nsread: not a namespace name: %s\n", name);
      return 2;
    }
    int end = i + 1;
    while (end < argc && strcmp(argv[end], "--") != 0) end += 1;
    int fd = open_netns(name);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
      printf("%s\t\tcannot enter the namespace: %s\n", name, strerror(errno));
      failed = 1;
    } else {
      for (int k = i + 1; k < end; k += 1) {
        int err = -write_sysctl(argv[k]);
        if (err != 0) {
          const char *eq = strchr(argv[k], '=');
          printf("%s\t%.*s\t%s\n", name, eq ? (int)(eq - argv[k]) : (int)strlen(argv[k]), argv[k], strerror(err));
          failed = 1;
          break;
        }
      }
    }
    if (fd >= 0) close(fd);
    i = end + 1;
  }
  fflush(stdout);
  return failed;
}

static int usage(void) {
  fprintf(stderr, "usage: nslab-nsread read NS... [-- CANDIDATE...] | owner NS... | exec NS -- CMD ARG... | create NS MARKER [KEY=VALUE...] | sysctls NS KEY=VALUE... [-- NS KEY=VALUE...]... | watch\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "watch") == 0) return watch_loop();
  if (argc >= 3 && strcmp(argv[1], "sysctls") == 0) return write_many(argc, argv);
  if (argc >= 4 && strcmp(argv[1], "create") == 0) {
    if (!valid_name(argv[2])) {
      fprintf(stderr, "nslab-nsread: not a namespace name: %s\n", argv[2]);
      return 2;
    }
    return create_netns(argv[2], argv[3], argv + 4, argc - 4);
  }
  if (argc < 3) return usage();
  const char *mode = argv[1];
  for (int i = 2; i < argc; i += 1) {
    if (strcmp(argv[i], "--") == 0) {
      if (strcmp(mode, "exec") == 0) break;
      continue;
    }
    if (!valid_name(argv[i])) {
      fprintf(stderr, "nslab-nsread: not a namespace name: %s\n", argv[i]);
      return 2;
    }
  }

  if (strcmp(mode, "exec") == 0) {
    if (argc < 5 || strcmp(argv[3], "--") != 0) return usage();
    int fd = open_netns(argv[2]);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
      fprintf(stderr, "nslab-nsread: cannot enter namespace %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    close(fd);
    execvp(argv[4], argv + 4);
    fprintf(stderr, "nslab-nsread: cannot run %s: %s\n", argv[4], strerror(errno));
    return 127;
  }
  int reading = strcmp(mode, "read") == 0;
  if (!reading && strcmp(mode, "owner") != 0) return usage();

  /* A read holds one descriptor per namespace named: allow as many as the hard limit does. */
  struct rlimit files;
  if (reading && getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  /* The namespaces to read come first, then the extra candidates (read mode only). */
  spaces = calloc((size_t)argc, sizeof *spaces);
  if (!spaces) die("out of memory");
  int dashes = 0;
  for (int i = 2; i < argc; i += 1) {
    if (strcmp(argv[i], "--") == 0) {
      if (!reading || dashes) return usage();
      dashes = 1;
      read_count = space_count;
      continue;
    }
    struct netns *ns = &spaces[space_count++];
    ns->name = argv[i];
    /* A read keeps every namespace open for naming nsids; an owner check needs one at a time. */
    ns->fd = reading ? open_netns(argv[i]) : -1;
    ns->open_error = errno;
  }
  if (!dashes) read_count = space_count;

  /* Entering one namespace after another: nothing here needs the namespace we started in. */
  for (size_t i = 0; i < read_count; i += 1) {
    struct netns *ns = &spaces[i];
    if (!reading) {
      ns->fd = open_netns(ns->name);
      ns->open_error = errno;
    }
    if (ns->fd < 0) {
      frame_error((uint32_t)i, ns->open_error, "cannot open the namespace");
    } else if (setns(ns->fd, CLONE_NEWNET) < 0) {
      frame_error((uint32_t)i, errno, "cannot enter the namespace");
    } else if (reading) {
      read_namespace((uint32_t)i);
    } else {
      read_owner((uint32_t)i);
    }
    if (!reading && ns->fd >= 0) {
      close(ns->fd);
      ns->fd = -1;
    }
    if (out_len >= RECV_BUFFER) out_flush();
  }
  for (size_t i = 0; reading && i < read_count; i += 1) {
    struct netns *ns = &spaces[i];
    if (!ns->read_ok || ns->nrefs == 0 || setns(ns->fd, CLONE_NEWNET) < 0) continue;
    int fd = nl_open(NETLINK_ROUTE);
    if (fd < 0) continue;
    resolve_nsids(fd, (uint32_t)i);
    close(fd);
    if (out_len >= RECV_BUFFER) out_flush();
  }
  out_flush();
  return 0;
}
