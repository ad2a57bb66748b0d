/** The connection to the server, in a status region: connected, reconnecting (and why), or incompatible. */
import { useConnection } from './store';

const TEXT = { connecting: 'Connecting…', open: 'Connected', reconnecting: 'Reconnecting…', incompatible: 'Incompatible server', refused: 'Token refused' } as const;

/** The connection status pill. */
export function ConnectionStatus() {
  const status = useConnection((s) => s.status);
  const detail = useConnection((s) => s.detail);
  const server = useConnection((s) => s.server);
  return (
    <div className={`conn conn-${status}`} role="status" aria-label="Connection status" aria-live="polite" title={status === 'open' ? `Connected to ${server ?? 'the nslab server'}` : detail}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-text">{TEXT[status]}</span>
      {/* A refused token is final: the sentence that says what to do is shown, not only hovered. */}
      {status === 'refused' && detail ? <span className="conn-detail" role="alert">{detail}</span> : null}
    </div>
  );
}
