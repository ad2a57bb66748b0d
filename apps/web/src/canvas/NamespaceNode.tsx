/**
 * A namespace on the canvas: its name and role, badges for forwarding and NAT, its
 * interfaces as ports (each with a handle on both sides, so a veth edge attaches to
 * exactly its port on the side facing its peer), and each bridge as a box listing
 * its member ports. The "+" knob starts a new link; dropping it on a namespace or a
 * bridge box connects them. Memoised; its data holds values only.
 */
import { memo, useEffect, useRef } from 'react';
import { Handle, Position, useUpdateNodeInternals } from '@xyflow/react';
import type { NodeProps } from '@xyflow/react';
import type { BridgeView, NamespaceNode as NamespaceNodeType, PortView } from './derive';
import { handleId, looksDown } from './derive';
import { Icon } from '../ui/Icons';

const ROLE_LABEL = { namespace: 'namespace', router: 'router', host: 'host', internet: 'internet' } as const;

/** One line for a port: its addresses, or what else is worth knowing. */
function portText(port: PortView): string {
  if (port.addresses.length > 0) return port.addresses[0] + (port.addresses.length > 1 ? ` +${port.addresses.length - 1}` : '');
  if (port.detail) return port.detail;
  if (port.kind === 'veth' && !port.linked) return port.peer ? `peer in ${port.peer}` : 'veth, no peer';
  return '';
}

function stateWord(port: { up: boolean; carrier: string }): string {
  if (!port.up) return 'down';
  if (port.carrier === 'down') return 'no carrier';
  return 'up';
}

const Port = memo(function Port({ port }: { port: PortView }) {
  const down = looksDown(port);
  const text = portText(port);
  const title = [
    `${port.name} (${port.kind}) ${stateWord(port)}`,
    ...port.addresses,
    port.peer ? `peer: ${port.peer}` : '',
    port.detail ?? '',
  ].filter(Boolean).join('\n');
  return (
    <div className={`port${down ? ' down' : ''}`} data-port={port.name} title={title} aria-label={`${port.name} ${stateWord(port)}${port.addresses.length ? ` ${port.addresses.join(' ')}` : ''}`}>
      <Handle type="source" position={Position.Left} id={handleId(port.name, 'l')} isConnectable={false} className="port-handle" />
      <span className={`dot ${down ? 'is-down' : port.carrier === 'unknown' ? 'is-unknown' : 'is-up'}`} aria-hidden="true" />
      <span className="port-name">{port.name}</span>
      <span className="port-text">{text}</span>
      <Handle type="source" position={Position.Right} id={handleId(port.name, 'r')} isConnectable={false} className="port-handle" />
    </div>
  );
});

const Bridge = memo(function Bridge({ node, bridge }: { node: string; bridge: BridgeView }) {
  const down = looksDown(bridge);
  return (
    <div className={`bridge${down ? ' down' : ''}`} data-bridge={bridge.name} aria-label={`Bridge ${bridge.name} in ${node}`}>
      <div className="bridge-title">
        <Icon name="bridge" size={14} />
        <span className="bridge-name">{bridge.name}</span>
        <span className="bridge-addr">{bridge.addresses.join(', ') || 'bridge'}</span>
        {down ? <span className="badge off">down</span> : null}
        <Handle type="source" position={Position.Right} id={`connect:${bridge.name}`} className="connect-handle" aria-label={`Connect ${node} ${bridge.name}`} title={`Drag from here to a namespace to plug it into ${bridge.name}`} />
      </div>
      {bridge.ports.length === 0 ? <div className="bridge-empty">no ports: drop a link here</div> : null}
      {bridge.ports.map((p) => <Port key={p.name} port={p} />)}
    </div>
  );
});

function NamespaceNodeView({ id, data, selected }: NodeProps<NamespaceNodeType>) {
  const empty = data.ports.length === 0 && data.bridges.length === 0;
  // Handles come and go with the ports; React Flow re-reads them only when told (or when
  // the node's size changes, which a port replacing "no interfaces yet" does not).
  const updateInternals = useUpdateNodeInternals();
  const handles = [...data.ports.map((p) => p.name), ...data.bridges.flatMap((b) => [`[${b.name}]`, ...b.ports.map((p) => p.name)])].join(' ');
  // Not on mount: React Flow measures a new node itself, and 300 nodes each asking for a
  // re-measure at once would cost seconds.
  const seen = useRef(handles);
  useEffect(() => {
    if (seen.current === handles) return;
    seen.current = handles;
    updateInternals(id);
  }, [id, handles, updateInternals]);
  return (
    <div className={`ns-node role-${data.role}${selected ? ' selected' : ''}${data.problem ? ' has-problem' : ''}`}>
      <div className="ns-header">
        <span className="ns-icon"><Icon name={data.role} size={16} /></span>
        <span className="ns-name">{data.name}</span>
        {data.name.startsWith(data.role) ? null : <span className="ns-role">{ROLE_LABEL[data.role]}</span>}
        <span className="ns-badges">
          {data.forwarding ? <span className="badge fwd" title="IP forwarding is on: this namespace routes packets between its interfaces">FWD</span> : null}
          {data.nat.length > 0 ? <span className="badge nat" title={data.nat.join('\n')}>NAT {data.nat.length}</span> : null}
        </span>
        <Handle type="source" position={Position.Right} id="connect" className="connect-handle" aria-label={`Connect ${data.name}`} title="Drag from here to another namespace or bridge to connect them with a veth pair" />
      </div>
      {data.problem ? <div className="ns-problem" role="alert"><Icon name="alert" size={14} /><span>{data.problem}</span></div> : null}
      {empty ? <div className="ns-empty">no interfaces yet</div> : null}
      {data.ports.map((p) => <Port key={p.name} port={p} />)}
      {data.bridges.map((b) => <Bridge key={b.name} node={data.name} bridge={b} />)}
      {data.routes.length + data.nat.length > 0 ? (
        <div className="ns-facts" title={[...data.routes, ...data.nat].join('\n')}>
          {data.routes.length > 0 ? <span className="fact-short">{data.routes.length === 1 ? data.routes[0] : `${data.routes.length} routes`}</span> : null}
          {data.nat.length > 0 ? <span className="fact-short">{data.nat.length === 1 ? data.nat[0] : `${data.nat.length} firewall rules`}</span> : null}
          {/* In full only in a picture of the lab (canvas/image.ts), where no tooltip can show them. */}
          {[...data.routes, ...data.nat].map((line, i) => <span key={i} className="fact-full">{line}</span>)}
        </div>
      ) : null}
    </div>
  );
}

/** The namespace node component, registered in the canvas's module-level nodeTypes. */
export const NamespaceNode = memo(NamespaceNodeView);
