/**
 * Network namespaces owned by a user namespace: how a classroom trainee's lab nodes are made
 * (classroom/contain.ts). `nslab-contain netns USERNS FILE` (native/contain.c) unshares the
 * namespace from inside USERNS, so that user namespace's root has CAP_NET_ADMIN in it and in
 * nothing it does not own, and binds it on FILE as `ip netns add` would; the server, as the
 * machine's root, keeps every power over it (ip -n, nslab-nsread, tcpdump, nft monitor trace).
 */
import { fileURLToPath } from 'node:url';

/** The helper that makes user namespaces, their network namespaces and contained shells (native/contain.c). */
export const CONTAIN_PATH = fileURLToPath(new URL('../../native/build/nslab-contain', import.meta.url));

/** argv that makes the named namespace `netns` (a /run/netns name) owned by the user namespace bound at `userns`. */
export function ownedNetnsArgv(userns: string, netns: string): string[] {
  return [CONTAIN_PATH, 'netns', userns, `/run/netns/${netns}`];
}
