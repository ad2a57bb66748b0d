/**
 * The HTTP side: the JSON API over labs (a Bearer token, or a signed URL for a download), the
 * bundled examples, and the built web app (served without the token: the page reads the token
 * from its one-time `?token=` address and keeps it in sessionStorage, see auth.ts). Errors are
 * JSON `{error, problems?}`.
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionInfo, Topology, ViewLink } from '@nslab/model';
import { exportScript, MAX_MESSAGE_BYTES, toYaml, viewLinkRequest } from '@nslab/model';
import { historyProblem, type HistoryStore, type LabHistory } from '../history';
import type { LabFeed } from '../live/feed';
import { LabError, LabService } from '../labs/service';
import type { HostPolicy } from './auth';
import { bearerToken, signatureValid, signPath, tokenMatches } from './auth';
import type { Classroom } from '../classroom/classroom';
import { RosterError } from '../classroom/roster';
import { INSTRUCTOR, kernelLab, ownLab, ownText, principalOf } from '../classroom/scope';
import type { Principal } from '../classroom/scope';
import type { ViewLinks, ViewRecord } from '../liveview/links';
import { hoursProblem, ViewLinkError } from '../liveview/links';
import { readOnlySentence, viewerMayRequest } from '../liveview/policy';

/** What the HTTP app needs. */
export interface ApiDeps {
  token: string;
  hosts: HostPolicy;
  labs: LabService;
  feed: LabFeed;
  /** Each lab's command log and undo history, as the page last sent them. */
  history: HistoryStore;
  webDir: string;
  version: string;
  /** Extra routes (terminals, captures) mounted after auth. */
  extend?: (app: express.Express) => void;
  /** Classroom mode: the trainees (each with a token of their own) and their quotas. */
  classroom?: Classroom;
  /** The address the server is reached at (https://NAME:PORT), for trainees' join links. */
  publicUrl?: () => string;
  /** Live-view links: tokens that show one lab and change nothing. */
  views?: ViewLinks;
  /** Told of every authenticated request, with who made it (classroom mode: a trainee's activity, lifetime.ts). */
  activity?: (principal: Principal) => void;
}

/** HTTP status of each refusal to add a trainee. */
const ROSTER_STATUS: Record<RosterError['code'], number> = { invalid: 400, conflict: 409, full: 409 };

/** The paths a signed URL may open: downloads only, never a change. */
const SIGNABLE = /^\/api\/labs\/[a-z0-9-]{1,24}\/(?:pcap|export)$/;

const STATUS: Record<LabError['code'], number> = { invalid: 400, 'not-found': 404, conflict: 409, kernel: 500, 'read-only': 403 };

/** The kernel's name of a lab the request's principal named (a LabError when the name is wrong). */
function kernel(res: Response, lab: string): string {
  return kernelLab(principalOf(res.locals), lab);
}

/** Whether `principal` may see and revoke a link: the instructor every one, a trainee those they made. */
function madeBy(link: ViewRecord, principal: Principal): boolean {
  return principal.kind === 'instructor' || (principal.kind === 'trainee' && link.maker.kind === 'trainee' && link.maker.name === principal.name);
}

/** Builds the express app. */
export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // DNS rebinding: a page on another name that resolves here must not reach the API.
  app.use((req, res, next) => {
    if (!deps.hosts.hostAllowed(req.headers.host)) {
      res.status(403).json({ error: `host "${req.headers.host ?? ''}" is not this server's name; open the URL nslab printed` });
      return;
    }
    next();
  });

  // The API needs the token; a download link may carry a signature made with it instead (signed URLs).
  app.use('/api', (req, res, next) => {
    // In classroom mode a trainee's token gets in too, as that trainee (classroom/scope.ts).
    // A live-view link's token gets in as a viewer of its one lab (liveview/links.ts).
    const token = bearerToken(req);
    const principal = (deps.classroom ? deps.classroom.roster.principal(token, deps.token) : tokenMatches(token, deps.token) ? INSTRUCTOR : undefined)
      ?? deps.views?.principal(token);
    if (principal) {
      res.locals['principal'] = principal;
      deps.activity?.(principal);
      // A viewer reads what shows its lab; anything else is refused in a sentence (liveview/policy.ts).
      if (principal.kind === 'viewer' && !viewerMayRequest(req.method, req.path)) {
        res.status(403).json({ error: readOnlySentence(principal.name), code: 'read-only' });
        return;
      }
      return next();
    }
    if (req.method === 'GET' && SIGNABLE.test(`${req.baseUrl}${req.path}`) && signatureValid(deps.token, req)) return next();
    res.status(401).json({ error: 'the token was refused: open the URL printed by nslab serve, or send Authorization: Bearer TOKEN' });
  });

  app.use('/api', express.json({ limit: MAX_MESSAGE_BYTES }), express.text({ type: ['application/yaml', 'application/x-yaml', 'text/*'], limit: MAX_MESSAGE_BYTES }));

  // A short-lived URL for a download that a plain link fetches (the browser sends no header with it).
  app.post('/api/signed-url', (req, res) => {
    const path = (req.body as { path?: unknown } | undefined)?.path;
    const pathname = typeof path === 'string' && path.startsWith('/') && !path.startsWith('//') ? path.split('?')[0] ?? '' : '';
    if (!SIGNABLE.test(pathname)) {
      res.status(400).json({ error: 'only a download path (/api/labs/LAB/pcap or /api/labs/LAB/export, with its query) can be signed' });
      return;
    }
    // A trainee's path is signed in the kernel's names: the signature then opens their lab and no other.
    const principal = principalOf(res.locals);
    const lab = pathname.split('/')[3] ?? '';
    const signed = principal.kind === 'instructor' ? path as string : (path as string).replace(`/api/labs/${lab}/`, `/api/labs/${kernelLab(principal, lab)}/`);
    res.json({ url: signPath(deps.token, signed) });
  });

  // Classroom mode: the instructor makes trainees, each with a token and a join link.
  app.post('/api/trainees', (req, res) => {
    if (!deps.classroom) { res.status(404).json({ error: 'this server is not a classroom: start it with nslab serve --classroom' }); return; }
    if (principalOf(res.locals).kind !== 'instructor') { res.status(403).json({ error: 'only the instructor makes trainees' }); return; }
    try {
      const trainee = deps.classroom.roster.add((req.body as { name?: unknown } | undefined)?.name);
      res.status(201).json({ name: trainee.name, token: trainee.token, url: `${deps.publicUrl?.() ?? ''}/?token=${trainee.token}` });
    } catch (err) {
      if (err instanceof RosterError) res.status(ROSTER_STATUS[err.code]).json({ error: err.message });
      else throw err;
    }
  });
  app.get('/api/trainees', (_req, res) => {
    if (!deps.classroom) { res.status(404).json({ error: 'this server is not a classroom: start it with nslab serve --classroom' }); return; }
    if (principalOf(res.locals).kind !== 'instructor') { res.status(403).json({ error: 'only the instructor sees the class list' }); return; }
    res.json({ trainees: deps.classroom.roster.list().map((t) => ({ name: t.name, token: t.token, url: `${deps.publicUrl?.() ?? ''}/?token=${t.token}` })) });
  });

  app.get('/api/version', (_req, res) => { res.json({ server: deps.version }); });
  // Who this token makes the page: a viewer's page shows its one lab, read-only.
  app.get('/api/session', (_req, res) => {
    const principal = principalOf(res.locals);
    const session: SessionInfo = principal.kind === 'viewer'
      ? { role: 'viewer', lab: principal.name, expires: deps.views?.get(principal.id)?.expires ?? 0 }
      : principal.kind === 'trainee' ? { role: 'trainee', trainee: principal.name } : { role: 'instructor', ...(deps.classroom ? { classroom: true } : {}) };
    res.json(session);
  });

  // Live-view links: the instructor makes one for any lab, a trainee for their own.
  app.post('/api/labs/:lab/views', (req, res, next) => {
    try {
      const views = deps.views;
      if (!views) { res.status(404).json({ error: 'this server makes no live-view links' }); return; }
      const lab = kernel(res, req.params.lab);
      if (!deps.feed.labs().some((l) => l.name === lab)) throw new LabError('not-found', `no lab named "${req.params.lab}": build it before sharing a live view of it`);
      const parsed = viewLinkRequest.safeParse((req.body as unknown) ?? {});
      if (!parsed.success) throw new LabError('invalid', 'send {} or {"hours": N}: the hours the link lasts (default 12, at most 72), and nothing else');
      const problem = hoursProblem(parsed.data.hours);
      if (problem) throw new LabError('invalid', problem);
      const link = views.make(lab, req.params.lab, principalOf(res.locals), parsed.data.hours);
      res.status(201).json(viewJson(link));
    } catch (e) {
      if (e instanceof ViewLinkError) res.status(e.code === 'full' ? 409 : 400).json({ error: e.message });
      else next(e);
    }
  });
  app.get('/api/labs/:lab/views', (req, res, next) => {
    try {
      const lab = kernel(res, req.params.lab);
      res.json({ views: (deps.views?.list(lab) ?? []).filter((l) => madeBy(l, principalOf(res.locals))).map(viewJson) });
    } catch (e) { next(e); }
  });
  app.delete('/api/labs/:lab/views/:id', (req, res, next) => {
    try {
      const lab = kernel(res, req.params.lab);
      const link = deps.views?.get(req.params.id);
      if (!link || link.lab !== lab || !madeBy(link, principalOf(res.locals))) throw new LabError('not-found', `lab ${req.params.lab} has no live-view link ${req.params.id.slice(0, 40)}`);
      deps.views?.revoke(link.id);
      res.status(204).end();
    } catch (e) { next(e); }
  });
  /** A link as its maker sees it: the page address carries the token (`?view=`), read once and kept in the tab like `?token=`. */
  const viewJson = (link: ViewRecord): ViewLink => ({ id: link.id, token: link.token, url: `${deps.publicUrl?.() ?? ''}/?view=${link.token}`, lab: link.name, expires: link.expires });
  app.get('/api/labs', (_req, res) => {
    const principal = principalOf(res.locals);
    res.json({ labs: deps.feed.labs().flatMap((l) => { const name = ownLab(principal, l.name); return name === undefined ? [] : [{ name, nodes: l.nodes.length }]; }) });
  });
  app.get('/api/examples', async (_req, res, next) => {
    try { res.json({ examples: await deps.labs.examples() }); } catch (e) { next(e); }
  });
  app.get('/api/labs/:lab', async (req, res, next) => {
    try { res.json({ ...(await deps.labs.get(kernel(res, req.params.lab))), name: req.params.lab }); } catch (e) { next(e); }
  });
  app.get('/api/labs/:lab/export', async (req, res, next) => {
    try {
      const topology = { ...(await deps.labs.get(kernel(res, req.params.lab))), name: req.params.lab };
      const format = req.query['format'] ?? 'yaml';
      if (format === 'script') res.type('text/x-shellscript').attachment(`${topology.name}.sh`).send(exportScript(topology));
      else if (format === 'yaml') res.type('application/yaml').attachment(`${topology.name}.yaml`).send(toYaml(topology, await deps.labs.meta(kernel(res, topology.name))));
      else throw new LabError('invalid', `format must be yaml or script, not ${JSON.stringify(format)}`);
    } catch (e) { next(e); }
  });
  app.put('/api/labs/:lab', async (req, res, next) => {
    try {
      const body: unknown = req.body;
      if (body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0 && typeof body !== 'string')) {
        throw new LabError('invalid', 'send the topology as the body (Content-Type: application/yaml or application/json)');
      }
      const dryRun = req.query['dryRun'] === '1' || req.query['dryRun'] === 'true';
      const principal = principalOf(res.locals);
      kernel(res, req.params.lab); // the name checked in the principal's space before the body is read
      const result = await deps.labs.apply(body, {
        dryRun, expectName: req.params.lab,
        ...(principal.kind === 'trainee' ? { rename: (name: string) => kernelLab(principal, name) } : {}),
        ...(deps.classroom ? { admit: (t: Topology) => deps.classroom?.admitTopology(t) } : {}),
      });
      // Listed again before answering, so that a GET /api/labs after this answer sees the change.
      if (!dryRun) await deps.feed.refreshLabs().catch(() => undefined);
      res.json({ lab: req.params.lab, dryRun, ran: result.ran, ops: result.ops, warnings: result.warnings });
    } catch (e) { next(e); }
  });
  app.delete('/api/labs/:lab', async (req, res, next) => {
    try {
      const removed = await deps.labs.destroy(kernel(res, req.params.lab));
      await deps.feed.refreshLabs().catch(() => undefined); // as after PUT: the answer comes after the list has changed
      res.json({ lab: req.params.lab, removed });
    } catch (e) { next(e); }
  });

  // The page's command log and undo history of a lab (history.ts): kept here so a reload keeps them.
  app.get('/api/labs/:lab/history', (req, res, next) => {
    try {
      res.json(deps.history.get(kernel(res, req.params.lab)));
    } catch (e) { next(e); }
  });
  app.put('/api/labs/:lab/history', (req, res, next) => {
    try {
      const lab = kernel(res, req.params.lab);
      const problem = historyProblem(lab, req.body);
      if (problem) throw new LabError('invalid', problem);
      deps.history.set(lab, req.body as LabHistory);
      res.status(204).end();
    } catch (e) { next(e); }
  });

  deps.extend?.(app);

  app.use('/api', (_req, res) => { res.status(404).json({ error: 'no such API endpoint' }); });

  // The page itself is public (it holds no secret); it must not leak its `?token=` address as a Referer.
  app.use((_req, res, next) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  if (existsSync(join(deps.webDir, 'index.html'))) {
    app.use(express.static(deps.webDir, { index: 'index.html' }));
    app.get(/^\/(?!api\/|ws).*/, (_req, res) => { res.sendFile(join(deps.webDir, 'index.html')); });
  } else {
    app.get('/', (_req, res) => { res.type('html').send('<!doctype html><title>nslab</title><p>The web app is not built: run <code>npm run build</code>, then reload.</p>'); });
  }

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof LabError) {
      res.status(STATUS[err.code]).json({ error: ownText(principalOf(res.locals), err.message), ...(err.problems ? { problems: err.problems } : {}), ...(err.op ? { op: err.op } : {}), ...(err.stderr ? { stderr: err.stderr } : {}) });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') { res.status(413).json({ error: `the body is larger than ${MAX_MESSAGE_BYTES} bytes` }); return; }
    if (e.type === 'entity.parse.failed') { res.status(400).json({ error: `the body is not valid JSON: ${e.message ?? ''}` }); return; }
    // A malformed request (a path that does not decode, say) is the client's error, said as such.
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) { res.status(e.status).json({ error: `the request is malformed: ${e.message ?? ''}` }); return; }
    res.status(500).json({ error: e.message ?? 'internal error' });
  });
  return app;
}
