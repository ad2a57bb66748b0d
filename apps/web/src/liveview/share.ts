/**
 * Making a live-view link of the open lab (POST /api/labs/:lab/views) and revoking one: the
 * owner's side of the live view.
 */
import { viewLink, viewLinks } from '@nslab/model';
import type { ViewLink } from '@nslab/model';
import { apiFetch, errorOf } from '../server/credentials';

/** Makes a link to `lab` lasting `hours`; throws the server's sentence when refused. */
export async function makeViewLink(lab: string, hours?: number): Promise<ViewLink> {
  const res = await apiFetch(`/api/labs/${encodeURIComponent(lab)}/views`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hours === undefined ? {} : { hours }),
  });
  if (!res.ok) throw new Error(await errorOf(res));
  const parsed = viewLink.safeParse(await res.json());
  if (!parsed.success) throw new Error('the server did not answer with a live-view link');
  return parsed.data;
}

/** The unexpired links of `lab` this page may see. */
export async function listViewLinks(lab: string): Promise<ViewLink[]> {
  const res = await apiFetch(`/api/labs/${encodeURIComponent(lab)}/views`);
  if (!res.ok) throw new Error(await errorOf(res));
  const parsed = viewLinks.safeParse(await res.json());
  return parsed.success ? parsed.data.views : [];
}

/** Ends a link: its viewers' pages stop at once. */
export async function revokeViewLink(lab: string, id: string): Promise<void> {
  const res = await apiFetch(`/api/labs/${encodeURIComponent(lab)}/views/${encodeURIComponent(id)}`, { method: 'DELETE' });
  if (!res.ok && res.status !== 404) throw new Error(await errorOf(res));
}
