/**
 * The container layer as the container view shows it: Docker's sandboxes (containers),
 * endpoints and networks, and the spec they were expanded from (expand.ts).
 */
import type { RawContainer, RawNetwork } from '../schema';

/** The node that plays the container host unless a container names another. */
export const DEFAULT_HOST = 'host';

/** One endpoint: a container's interface on a network and the veth end that implements it. */
export interface EndpointInfo { network: string; interface: string; address?: string; peer: { node: string; interface: string } }

/** What the container view shows of one container. */
export interface ContainerInfo {
  mode: 'bridge' | 'host' | 'none' | 'container';
  host: string;
  /** The namespace it runs in: its own node, or (container mode) the node of the container it shares. */
  node?: string;
  /** Container mode: the container whose namespace it shares. */
  shares?: string;
  /** The image name it was started from (recorded, never pulled). */
  image?: string;
  /** The command it runs in its namespace. */
  command?: string[];
  /** It is on a user-defined network: the lab runs Docker's embedded DNS for it at 127.0.0.11. */
  dns?: boolean;
  endpoints: EndpointInfo[];
  publish: string[];
}

/** What the container view shows of one network. */
export interface NetworkInfo { driver: 'bridge' | 'overlay'; subnet: string; gateway?: string; internal: boolean; bridges: Record<string, string>; vni?: number }

/** The container layer as the file (or the `docker` command) wrote it: what export gives back. */
export interface ContainerSpec { networks: Record<string, RawNetwork>; containers: Record<string, RawContainer | null> }

/** Docker's model of a lab: sandboxes (containers), endpoints and networks, and the spec they came from. */
export interface ContainerLayer { networks: Record<string, NetworkInfo>; containers: Record<string, ContainerInfo>; spec?: ContainerSpec }
