/**
 * How a lab shell is started: its argv, environment and rc file. Pure functions, no I/O.
 *
 * The shell runs as
 *   nsenter --mount=/proc/<holder>/ns/mnt --wd=/root -- ip netns exec <node> bash --noprofile --rcfile <rc>
 * i.e. inside the lab's private mount namespace (labview.ts), where /run/netns holds exactly the
 * lab's nodes under their topology names, then `ip netns exec` moves it into the node's network
 * namespace and remounts /sys for it, exactly as a tutorial's `ip netns exec ns1 bash` would.
 * Neither nsenter (no --pid, no --fork) nor `ip netns exec` (outside batch mode) forks, so the
 * pid node-pty reports is the shell's own `$$`. A classroom trainee's shell is started by
 * libexec/join-cgroup first, which joins the trainee's cgroups and execs the same argv (same pid).
 * In a classroom a trainee's shell is started by nslab-contain instead (classroom/contain.ts): it
 * joins the cgroups, enters the lab's view and then the trainee's own namespaces, and runs
 * `ip netns exec <node> bash ...` there as a child, so node-pty's pid is the helper's, not `$$`.
 */
import { join } from 'node:path';
import { JOIN_CGROUP } from '../classroom/cgroups';
import { SERVER_DIR } from '../paths';
import { containedShellCommand, type TraineeUser } from '../classroom/contain';

/** Where lab shells start, and $HOME: root's home, as in a tutorial run with sudo -i. */
export const SHELL_CWD = '/root';

/** TERM for lab shells: what xterm.js implements. */
export const SHELL_TERM = 'xterm-256color';

/**
 * nslab's commands for lab shells (apps/server/shell-bin), first in their PATH: its `ip` turns
 * `ip netns add|delete NAME` into a request to the lab (control.ts) and runs the real ip otherwise;
 * its `docker` speaks Docker's network vocabulary to the lab's container layer.
 */
export const SHELL_BIN = join(SERVER_DIR, 'shell-bin');

/** PATH for lab shells: nslab's commands, then Debian's default for root (/etc/login.defs ENV_SUPATH). */
export const SHELL_PATH = `${SHELL_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/**
 * The rc file every lab shell reads instead of ~/.bashrc. It is constant (names reach it only
 * through the environment, and names are validated against NAME_PATTERN, so they can hold no
 * prompt escapes). It sets the prompt last, so nothing the machine's bash setup does changes it.
 */
export const SHELL_RC = `# Written by the nslab server: the rc file of lab shells (bash --rcfile).
# The prompt names the lab and node, e.g. "demo:ns1# ".
PS1="\${NSLAB_LAB}:\${NSLAB_NODE}# "
unset PROMPT_COMMAND
# Lab history is not kept in /root/.bash_history: shells come and go with labs.
unset HISTFILE
shopt -s checkwinsize
# On Linux, output still in the pty when the session leader exits is lost (node-pty issue 726):
# a short pause on exit lets the server read the last output of "cmd; exit" before the hangup.
trap 'sleep 0.05' EXIT
alias ls='ls --color=auto' grep='grep --color=auto'
`;

/**
 * The program and argv of a lab shell (never a shell string). With `cgroupProcs` (a classroom
 * trainee's cgroup.procs files, classroom/cgroups.ts) the shell first joins those cgroups, so it
 * and all it starts are limited before it runs anything. With `user` (a classroom trainee's user
 * namespace) it is also contained: its own user, pid, mount and cgroup namespaces, a read-only
 * tree and scratch space at /root and /tmp (classroom/contain.ts); `control` is its lab's control socket.
 */
export function shellCommand(mountNamespace: string, node: string, rcPath: string, cgroupProcs: readonly string[] = [], user?: TraineeUser, control?: string): { file: string; args: string[] } {
  const inNode = ['ip', 'netns', 'exec', node, 'bash', '--noprofile', '--rcfile', rcPath];
  // A classroom trainee's shell is contained (classroom/contain.ts): the helper enters the view itself,
  // and of /run/nslab the shell keeps only its rc file and its lab's control socket.
  if (user) return containedShellCommand(user, mountNamespace, cgroupProcs, control ? [rcPath, control] : [rcPath], inNode);
  const shell = ['nsenter', `--mount=${mountNamespace}`, `--wd=${SHELL_CWD}`, '--', ...inNode];
  if (cgroupProcs.length > 0) return { file: JOIN_CGROUP, args: [...cgroupProcs, '--', ...shell] };
  return { file: shell[0] as string, args: shell.slice(1) };
}

/**
 * The whole environment of a lab shell. Nothing is inherited from the server, whose environment
 * may hold its token. PS1 is also set here for shells that do not read the rc file (sh, nested bash).
 * `control` is the lab's control socket (control.ts), for shell-bin's ip.
 */
export function shellEnv(lab: string, node: string, control?: string, hostMount: string | null = `/proc/${process.pid}/ns/mnt`): Record<string, string> {
  return {
    ...(control ? { NSLAB_CONTROL: control } : {}),
    TERM: SHELL_TERM,
    COLORTERM: 'truecolor',
    LANG: 'C.UTF-8',
    HOME: SHELL_CWD,
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/bash',
    PATH: SHELL_PATH,
    NSLAB_LAB: lab,
    NSLAB_NODE: node,
    // The server's mount namespace, where lab namespaces have their kernel names: shell-bin/docker works there.
    // None (null) in a contained trainee shell, which could not enter it anyway: it says so to shell-bin/docker.
    ...(hostMount !== null ? { NSLAB_HOST_MNT: hostMount } : { NSLAB_CONTAINED: '1' }),
    PS1: `${lab}:${node}# `,
  };
}
