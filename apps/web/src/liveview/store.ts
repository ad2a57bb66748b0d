/**
 * Live view (view state): whether this page is a viewer of a live-view link, and of which lab.
 * A viewer's page shows one lab and offers nothing that changes it; the server refuses every
 * change anyway (apps/server/src/liveview/policy.ts), so this only keeps the page honest.
 */
import { create } from 'zustand';
import { sessionInfo } from '@nslab/model';
import { apiFetch } from '../server/credentials';

/** The one lab a viewer's page shows, and when its link ends (ms since the epoch). */
export interface Viewer { lab: string; expires: number }

/** The state of the live-view store. */
export interface LiveViewState {
  /** Set when this page's token is a live-view link's. */
  viewer: Viewer | undefined;
  setViewer(viewer: Viewer | undefined): void;
  /** Set when this page's token is a classroom trainee's (its lessons start with the trainee's own values). */
  trainee: boolean;
}

/** The live-view store. */
export const useLiveView = create<LiveViewState>((set) => ({
  viewer: undefined,
  setViewer: (viewer) => set({ viewer }),
  trainee: false,
}));

/** True when this page is a read-only live view. */
export function isViewer(): boolean {
  return useLiveView.getState().viewer !== undefined;
}

/**
 * Asks the server who this page's token makes it (GET /api/session) and keeps a viewer's lab
 * (and whether it is a trainee's).
 * A server that cannot be reached, or refuses the token, leaves the page as it was: the
 * connection status says why.
 */
export async function loadSession(): Promise<Viewer | undefined> {
  try {
    const res = await apiFetch('/api/session');
    if (!res.ok) return undefined;
    const parsed = sessionInfo.safeParse(await res.json());
    if (parsed.success && parsed.data.role === 'trainee') useLiveView.setState({ trainee: true });
    if (!parsed.success || parsed.data.role !== 'viewer') return undefined;
    const viewer = { lab: parsed.data.lab, expires: parsed.data.expires };
    useLiveView.getState().setViewer(viewer);
    return viewer;
  } catch {
    return undefined;
  }
}
