/**
 * Lab changes asked on the lab socket: a file applied, canvas edits, a lab destroyed.
 * Each is answered with its plan, progress per op and a result (LabService runs it).
 */
import type { ClientMessage, PlannedOp, Problem, Topology } from '@nslab/model';
import type { OpEvent } from '../kernel/apply';
import { kernelLab } from '../classroom/scope';
import type { Client } from './client';
import type { HubContext } from './context';

/** Runs an `apply` or `edit` request (its lab already the kernel's name) and answers it. */
export async function answerChange(hub: HubContext, client: Client, message: Extract<ClientMessage, { type: 'apply' | 'edit' }>): Promise<void> {
  const admit = hub.classroom ? (t: Topology) => hub.classroom?.admitTopology(t) : undefined;
  const rename = client.principal.kind === 'trainee' ? (name: string) => kernelLab(client.principal, name) : undefined;
  const id = message.id;
  const hooks = {
    plan: (lab: string, ops: PlannedOp[], warnings: Problem[]) => hub.send(client, {
      type: 'plan', lab, ops, dryRun: message.dryRun ?? false, ...(warnings.length > 0 ? { warnings } : {}), ...(id ? { id } : {}),
    }),
    progress: (lab: string, e: OpEvent) => hub.send(client, {
      type: 'progress', lab, index: e.index, argv: e.argv, status: e.status, code: e.code, stdout: e.stdout, stderr: e.stderr, ...(id ? { id } : {}),
    }),
  };
  const result = message.type === 'apply'
    ? await hub.labs.apply(message.topology, { dryRun: message.dryRun ?? false, ...(rename ? { rename } : {}), ...(admit ? { admit } : {}), ...hooks })
    : await hub.labs.edit(message.lab, message.edits, { dryRun: message.dryRun ?? false, ...(admit ? { admit } : {}), ...hooks });
  // Sent once the lab's live state includes the change (LabService waits for the confirming read),
  // so this client's next edit plans against its own write.
  hub.send(client, { type: 'result', lab: result.lab, ok: true, ran: result.ran, ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}), ...(id ? { id } : {}) });
  // A file applied brings its description and commands to try: subscribers get them with a fresh snapshot (the lab guide).
  if (message.type === 'apply' && !result.dryRun) for (const c of hub.clients) if (c.labs.has(result.lab)) hub.resend(c, result.lab);
  // Namespaces that came or went are picked up by the feed's watch of /run/netns.
}

/** Runs a `destroy` request and answers it. */
export async function answerDestroy(hub: HubContext, client: Client, message: Extract<ClientMessage, { type: 'destroy' }>): Promise<void> {
  await hub.labs.destroy(message.lab);
  hub.send(client, { type: 'result', lab: message.lab, ok: true, ran: 0, ...(message.id ? { id: message.id } : {}) });
  // The answer is sent; a listing that fails here is listed again on the next change of /run/netns.
  hub.feed.refreshLabs().catch((err: unknown) => console.error(`nslab: listing labs after destroying ${message.lab} failed: ${err instanceof Error ? err.message : String(err)}`));
}
