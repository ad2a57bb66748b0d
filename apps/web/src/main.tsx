/**
 * The composition root of the page: connects the socket (messages to `dispatch`,
 * state to the connection store), opens the lab named in the address or the
 * first one the server has, and renders the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import './live.css';
import { App } from './shell/App';
import { client } from './server/client';
import { dispatch } from './server/dispatch';
import { elkInWorker } from './canvas/elk-worker';
import { setElkFactory, warmLayout } from './canvas/layout';
import { freshLabName } from './editing/naming';
import { takeTokenFromPage } from './server/credentials';
import { installPacketFeed } from './packets/feed';
import { keepHistory } from './editing/history';
import { labFromHash, openLab, resubscribe } from './server/session';
import { useConnection } from './server/store';
import { useLab } from './state/lab';
import { installTraces } from './trace/trace';
import { isViewer, loadSession, useLiveView } from './liveview/store';
import { installClassLive } from './classroom/live';
import { classAvailable } from './classroom/api';
import { useClass } from './classroom/store';

// The token leaves the address bar before anything else runs (see credentials.ts).
takeTokenFromPage();

// Layouts in a worker, warmed up while the socket connects.
setElkFactory(elkInWorker);
void warmLayout().catch((err: unknown) => console.error('layout engine failed to start', err));

// Packets and traces listen to the socket's messages from the start.
installPacketFeed();
installTraces();
// The instructor's class view follows trainee labs on the same socket (classroom mode only).
installClassLive();

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

// The command log and undo history are kept per lab by the server.
keepHistory();
window.addEventListener('hashchange', () => {
  const lab = labFromHash(location.hash);
  // A live view shows its one lab, whatever the address says.
  if (lab && !isViewer()) openLab(lab);
});

// Who the token makes this page is asked first: a live view opens its lab and no other.
void classAvailable().then((yes) => useClass.getState().setAvailable(yes));
void loadSession().then((viewer) => {
  openLab(viewer ? viewer.lab : labFromHash(location.hash));
  client.start(wsUrl, {
    message: dispatch,
    ready() {
      const shown = useLiveView.getState().viewer;
      if (shown) {
        if (useLab.getState().lab !== shown.lab) openLab(shown.lab);
        else resubscribe();
        return;
      }
      // With no lab in the address, open the first lab the server has, or a new one. The address is
      // read again here: a hash set just now has its hashchange event still queued behind this message.
      const labs = useLab.getState().labs;
      if (!useLab.getState().lab) openLab(labFromHash(location.hash) ?? labs[0]?.name ?? freshLabName(labs.map((l) => l.name)));
      else resubscribe();
    },
    down(reason, retryIn, refused) {
      useConnection.getState().set(retryIn === undefined
        ? { status: refused ? 'refused' : 'incompatible', detail: refused && isViewer() ? 'this live-view link was revoked or has ended: ask for a new one' : reason, retryAt: undefined }
        : { status: 'reconnecting', detail: reason, retryAt: Date.now() + retryIn });
    },
  });
});

const root = document.getElementById('root');
if (root) createRoot(root).render(<StrictMode><App /></StrictMode>);
