/*
 * nslab-contain: a classroom trainee's user namespace, the network namespaces it owns, and the
 * contained shell that runs in it (apps/server/src/classroom/contain.ts). Run by the server as
 * real root; every argument is a path or a number, checked before use; nothing passes through a
 * shell.
 *
 *   nslab-contain user FILE HOSTID
 *       Makes a user namespace in which ids 0-65535 are the machine's HOSTID..HOSTID+65535 (an
 *       unprivileged range: the trainee's root owns no file of the machine) and binds it on FILE
 *       (created exclusively), which keeps it alive with no process in it.
 *   nslab-contain netns USERNS NETNS_FILE
 *       Makes a network namespace owned by the user namespace at USERNS, bound on NETNS_FILE
 *       (created exclusively, as `ip netns add` does): the trainee's root has CAP_NET_ADMIN in it
 *       and in no namespace it does not own, while the server keeps every power over it.
 *   nslab-contain owns USERNS NETNS_FILE
 *       Exits 0 when the network namespace at NETNS_FILE is owned by the user namespace at USERNS,
 *       3 when it is not (a lab made by a server without containment: the trainee's root could not
 *       enter it, so the server says so instead of starting a shell that ends at once).
 *   nslab-contain shell USERNS MOUNTNS HOME_UID [PROCS_FILE...] [--keep=FILE...] -- PROGRAM ARGS...
 *       Starts a trainee's shell: joins the cgroups (PROCS_FILE), enters the lab's mount namespace
 *       MOUNTNS (its /run/netns holds the lab's nodes only, terminal/labview.ts), then unshares a
 *       mount, pid and cgroup namespace, all owned by the machine's root so the trainee can undo
 *       none of what follows: the whole tree is made read-only and slave, /proc is mounted anew
 *       (only the shell's own processes), /dev/pts is a new devpts instance (no other terminal),
 *       /root and /tmp are small tmpfs scratch spaces owned by the trainee, /run/nslab is an empty
 *       read-only tmpfs holding only the files named by --keep (each under /run/nslab: the shell's
 *       rc file and its lab's control socket), so no other lab's or trainee's name shows there;
 *       /sys is the sysfs of an empty network namespace instead of the machine's, so the sysfs
 *       `ip netns exec` puts over it hides nothing of the machine's when unmounted.
 *       Only then it enters
 *       USERNS as its uid 0 and execs PROGRAM as the pid namespace's first process. This process
 *       stays outside, waits for it and exits with its status (it is the pid the server knows).
 *       When any step fails nothing is started (exit 126, with a sentence on the terminal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Ids a trainee's user namespace maps: 65536, as /etc/subuid gives each user by default. */
#define ID_COUNT 65536

/* Scratch spaces: /root and /tmp, each at most this size (tmpfs pages count against the trainee's memory cgroup). */
#define SCRATCH_OPTIONS "size=64m,mode=0700,uid=%lu,gid=%lu"

static int fail(const char *what, int err) {
  fprintf(stderr, "nslab-contain: %s: %s\n", what, strerror(err));
  return 1;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int err = n < 0 ? -errno : 0;
  close(fd);
  return err;
}

/* A non-negative decimal that fits, or -1. */
static long number(const char *text, long max) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *text == '\0' || *end != '\0' || v < 0 || v > max) return -1;
  return v;
}

/*
 * A child that unshares (or enters) a namespace and waits on a pipe while the parent, still the
 * machine's root, binds the child's namespace file; then the child is told to exit.
 */
struct waiter { pid_t pid; int release; };

static int start_waiter(struct waiter *w, int userns_fd, int flags) {
  int ready[2], release[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0) return -errno;
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    close(ready[0]);
    close(release[1]);
    char ok = 1;
    if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER) < 0) ok = 0;
    if (ok && unshare(flags) < 0) ok = 0;
    char err = ok ? 0 : (char)errno;
    if (write(ready[1], &err, 1) != 1) _exit(1);
    char c;
    while (read(release[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char err = 0;
  ssize_t n;
  while ((n = read(ready[0], &err, 1)) < 0 && errno == EINTR) {}
  close(ready[0]);
  w->pid = pid;
  w->release = release[1];
  if (n != 1) err = EPIPE;
  return -err;
}

static void end_waiter(struct waiter *w) {
  close(w->release);
  while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {}
}

/* Creates FILE exclusively and binds /proc/PID/ns/KIND on it; undone on failure. */
static int bind_ns(pid_t pid, const char *kind, const char *file) {
  int fd = open(file, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return -errno;
  close(fd);
  char source[64];
  snprintf(source, sizeof source, "/proc/%d/ns/%s", (int)pid, kind);
  if (mount(source, file, "none", MS_BIND, NULL) < 0) {
    int err = errno;
    unlink(file);
    return -err;
  }
  return 0;
}

static int make_user(const char *file, long hostid) {
  struct waiter w;
  int err = start_waiter(&w, -1, CLONE_NEWUSER);
  if (err) return fail("unshare a user namespace", -err);
  char path[64], map[64];
  snprintf(map, sizeof map, "0 %ld %d\n", hostid, ID_COUNT);
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)w.pid);
  err = write_file(path, map);
  if (!err) {
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)w.pid);
    err = write_file(path, map);
  }
  if (!err) err = bind_ns(w.pid, "user", file);
  end_waiter(&w);
  return err ? fail(file, -err) : 0;
}

static int make_netns(const char *userns, const char *file) {
  int ufd = open(userns, O_RDONLY | O_CLOEXEC);
  if (ufd < 0) return fail(userns, errno);
  struct waiter w;
  int err = start_waiter(&w, ufd, CLONE_NEWNET);
  close(ufd);
  if (err) return fail("unshare a network namespace in the trainee's user namespace", -err);
  err = bind_ns(w.pid, "net", file);
  end_waiter(&w);
  return err ? fail(file, -err) : 0;
}

/* 0 when NETNS_FILE's owner is the user namespace at USERNS, 3 when another, 1 on failure. */
static int owns(const char *userns, const char *netns) {
  struct stat user;
  if (stat(userns, &user) < 0) return fail(userns, errno);
  int fd = open(netns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(netns, errno);
  int owner = ioctl(fd, NS_GET_USERNS);
  int err = errno;
  close(fd);
  if (owner < 0) return fail(netns, err);
  struct stat st;
  int r = fstat(owner, &st);
  err = errno;
  close(owner);
  if (r < 0) return fail("owner of the network namespace", err);
  return st.st_dev == user.st_dev && st.st_ino == user.st_ino ? 0 : 3;
}

/* Where nslab keeps its state; a contained shell sees there only the files it is given (--keep). */
#define STATE_DIR "/run/nslab"
#define KEEP_FLAG "--keep="
/* Files a shell keeps from STATE_DIR: its rc file and its lab's control socket. */
#define MAX_KEEP 4

/*
 * Mounts over /sys the sysfs of a new network namespace, which this process enters
 * and nothing else ever does: sysfs shows the network devices of its mounter's namespace, so under
 * the sysfs of the node that `ip netns exec` mounts the trainee finds this one, not the machine's
 * (and no device at all: the namespace ends when `ip netns exec` leaves it, taking its lo).
 * Not the node's own namespace: a second sysfs of it on the same place is refused (EBUSY) and would
 * break `ip netns exec NODE` in the node's own shell. The machine's sysfs stays under it, out of
 * reach: this mount namespace belongs to the machine's root, so its mounts are locked in every
 * namespace the trainee makes from it. Not read-only: the kernel lets a user namespace mount a
 * sysfs only as writable as one visible, and `ip netns exec` mounts one read-write.
 */
static int empty_sysfs(void) {
  if (unshare(CLONE_NEWNET) < 0) return -1;
  return mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* A file under STATE_DIR, with no ".." and no "//": the only kind --keep takes. */
static int state_file(const char *path) {
  size_t n = strlen(STATE_DIR);
  return strncmp(path, STATE_DIR "/", n + 1) == 0 && strstr(path, "..") == NULL && strstr(path, "//") == NULL && strlen(path) < 256 && path[strlen(path) - 1] != '/';
}

/*
 * Replaces STATE_DIR with an empty tmpfs in which each kept file is bound at its own path, then
 * makes it read-only. The files are opened first (O_PATH), in this mount namespace: a bind's source
 * must be a mount of the caller's namespace. -1 with errno on failure.
 */
static int hide_state(const char **keep, int count) {
  int fds[MAX_KEEP];
  for (int i = 0; i < count; i += 1) {
    fds[i] = open(keep[i], O_PATH | O_CLOEXEC);
    if (fds[i] < 0) return -1;
  }
  if (mount("nslab-state", STATE_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") < 0) return -1;
  for (int i = 0; i < count; i += 1) {
    char path[256];
    snprintf(path, sizeof path, "%s", keep[i]);
    for (char *slash = strchr(path + strlen(STATE_DIR) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
      *slash = '\0';
      if (mkdir(path, 0755) < 0 && errno != EEXIST) return -1;
      *slash = '/';
    }
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    close(fd);
    char source[64];
    snprintf(source, sizeof source, "/proc/self/fd/%d", fds[i]);
    if (mount(source, path, NULL, MS_BIND, NULL) < 0) return -1;
    close(fds[i]);
  }
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  return (int)syscall(SYS_mount_setattr, AT_FDCWD, STATE_DIR, 0, &attr, sizeof attr);
}

/*
 * Every mount under / read-only and nosuid, recursively (mount_setattr, Linux 5.12), except /sys
 * itself (not the cgroup mounts under it): `ip netns exec` mounts a sysfs of the node over it, and
 * the kernel lets a user namespace mount a sysfs only as writable as one already visible (a second,
 * nested `ip netns exec` mounts it read-write). Its files belong to the machine's root, which the
 * trainee's root is not, so they stay unwritable. -1 with errno on failure.
 */
static int read_only_tree(void) {
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID};
  if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) < 0) return -1;
  struct mount_attr sys = {.attr_clr = MOUNT_ATTR_RDONLY};
  return (int)syscall(SYS_mount_setattr, AT_FDCWD, "/sys", 0, &sys, sizeof sys);
}

/* The contained side, as the new pid namespace's first process; returns only on failure. */
static void contained(int userns_fd, long home_uid, const char **keep, int keep_count, char **argv) {
  char scratch[128];
  snprintf(scratch, sizeof scratch, SCRATCH_OPTIONS, (unsigned long)home_uid, (unsigned long)home_uid);
  const char *step;
  if ((step = "make / a slave", mount("", "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) ||
      (step = "make / read-only", read_only_tree() < 0) ||
      (step = "mount /proc", mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) ||
      (step = "hide " STATE_DIR, hide_state(keep, keep_count) < 0) ||
      (step = "mount /sys", empty_sysfs() < 0) ||
      (step = "mount /dev/pts", mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0) ||
      (step = "bind /dev/ptmx", mount("/dev/pts/ptmx", "/dev/ptmx", NULL, MS_BIND, NULL) < 0) ||
      (step = "mount /root", mount("nslab-home", "/root", "tmpfs", MS_NOSUID | MS_NODEV, scratch) < 0) ||
      (step = "mount /tmp", mount("nslab-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, scratch) < 0) ||
      (step = "mount /dev/shm", mount("nslab-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, scratch) < 0) ||
      (step = "chdir /root", chdir("/root") < 0) ||
      (step = "enter the user namespace", setns(userns_fd, CLONE_NEWUSER) < 0) ||
      (step = "setgroups", setgroups(0, NULL) < 0) ||
      (step = "setresgid", setresgid(0, 0, 0) < 0) ||
      (step = "setresuid", setresuid(0, 0, 0) < 0)) {
    fprintf(stderr, "nslab: this shell could not be contained (%s: %s), so it was not started: tell the instructor\n", step, strerror(errno));
    return;
  }
  close(userns_fd);
  execvp(argv[0], argv);
  fprintf(stderr, "nslab: %s could not be started: %s\n", argv[0], strerror(errno));
}

static int shell(int argc, char **argv) {
  /* argv: USERNS MOUNTNS HOME_UID [PROCS_FILE...] [--keep=FILE...] -- PROGRAM ARGS... */
  int sep = 3;
  while (sep < argc && strcmp(argv[sep], "--") != 0) sep += 1;
  long home_uid = number(argv[2], 0xfffffffeL);
  if (sep >= argc - 1 || home_uid < 0) {
    fprintf(stderr, "usage: nslab-contain shell USERNS MOUNTNS HOME_UID [PROCS_FILE...] -- PROGRAM ARGS...\n");
    return 2;
  }
  const char *keep[MAX_KEEP];
  int keep_count = 0;
  for (int i = 3; i < sep; i += 1) {
    if (strncmp(argv[i], KEEP_FLAG, strlen(KEEP_FLAG)) != 0) continue;
    const char *file = argv[i] + strlen(KEEP_FLAG);
    if (keep_count == MAX_KEEP || !state_file(file)) {
      fprintf(stderr, "nslab-contain: --keep takes at most %d files under %s\n", MAX_KEEP, STATE_DIR);
      return 2;
    }
    keep[keep_count] = file;
    keep_count += 1;
  }
  char pid[32];
  snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  for (int i = 3; i < sep; i += 1) {
    if (strncmp(argv[i], KEEP_FLAG, strlen(KEEP_FLAG)) == 0) continue;
    int err = write_file(argv[i], pid);
    if (err) {
      fprintf(stderr, "nslab: this shell could not be given its limits (%s: %s), so it was not started: tell the instructor\n", argv[i], strerror(-err));
      return 126;
    }
  }
  int userns_fd = open(argv[0], O_RDONLY | O_CLOEXEC);
  int mnt_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  const char *step;
  if ((step = argv[0], userns_fd < 0) || (step = argv[1], mnt_fd < 0) ||
      (step = "enter the lab's mount namespace", setns(mnt_fd, CLONE_NEWNS) < 0) ||
      (step = "unshare", unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWCGROUP) < 0)) {
    fprintf(stderr, "nslab: this shell could not be contained (%s: %s), so it was not started: tell the instructor\n", step, strerror(errno));
    return 126;
  }
  close(mnt_fd);
  /* The shell gets hangups and kills itself (the server signals its whole session); this side only waits. */
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGTSTP, SIG_IGN);
  pid_t child = fork();
  if (child < 0) return fail("fork", errno);
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int s = 1; s < NSIG; s += 1) signal(s, SIG_DFL);
    contained(userns_fd, home_uid, keep, keep_count, argv + sep + 1);
    _exit(126);
  }
  close(userns_fd);
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return fail("wait", errno);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "user") == 0) {
    long hostid = number(argv[3], 0xffffffffL - ID_COUNT);
    if (hostid <= 0) return fail("HOSTID", EINVAL);
    return make_user(argv[2], hostid);
  }
  if (argc == 4 && strcmp(argv[1], "netns") == 0) return make_netns(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "owns") == 0) return owns(argv[2], argv[3]);
  if (argc >= 7 && strcmp(argv[1], "shell") == 0) return shell(argc - 2, argv + 2);
  fprintf(stderr, "usage: nslab-contain user FILE HOSTID | netns USERNS NETNS_FILE | owns USERNS NETNS_FILE | shell USERNS MOUNTNS HOME_UID [PROCS_FILE...] [--keep=FILE...] -- PROGRAM ARGS...\n");
  return 2;
}
