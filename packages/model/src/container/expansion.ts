/**
 * What the steps of one container-layer expansion share (expand.ts runs them in order):
 * the topology being built, the layer being described, each network's subnet, and the
 * problems found so far. Not part of the model's public surface.
 */
import type { Cidr } from '../address';
import type { Problem } from '../problem';
import type { Namespace, Topology } from '../topology';
import { emptyNamespace } from '../topology';
import { own, setOwn } from '../names';
import type { ContainerLayer } from './layer';

/** The state of one expansion, passed to each step. */
export interface Expansion {
  /** The file's own nodes and links, to which the expansion adds. */
  readonly topology: Topology;
  readonly layer: ContainerLayer;
  /** Each valid network's subnet (network address, host bits clear). */
  readonly subnets: Map<string, Cidr>;
  /** Records a problem at a path. */
  readonly fail: (path: string, message: string) => void;
  /** The node of that name, made empty if the file does not have it. */
  readonly nodeOf: (name: string) => Namespace;
}

/** A new expansion into `topology`, recording problems in `problems`. */
export function startExpansion(topology: Topology, layer: ContainerLayer, problems: Problem[]): Expansion {
  return {
    topology,
    layer,
    subnets: new Map(),
    fail: (path, message) => problems.push({ path, message }),
    nodeOf: (name) => {
      const node = own(topology.nodes, name) ?? emptyNamespace();
      setOwn(topology.nodes, name, node);
      return node;
    },
  };
}
