import { timingSafeEqual } from 'node:crypto';
import type { CircuitBreaker } from '@gl-vcci/breaker-core';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CalculationError } from './agents/calculator.js';
import type { Demo } from './app.js';
import { type CircuitView, circuitViews } from './circuits.js';
import { dashboardHtml } from './dashboard.js';

export interface ServerOptions {
  /** Bearer token of the operator endpoints; none: they are off. */
  operatorToken?: string;
  /** SSE update period (ms). */
  ssePeriodMs?: number;
}

const record = {
  type: 'object',
  required: ['activity', 'quantity', 'unit', 'region'],
  additionalProperties: false,
  properties: {
    activity: { type: 'string', minLength: 1, maxLength: 100 },
    quantity: { type: 'number', minimum: 0 },
    unit: { type: 'string', minLength: 1, maxLength: 40 },
    region: { type: 'string', minLength: 2, maxLength: 10 },
    year: { type: 'integer', minimum: 1990, maximum: 2100 },
  },
} as const;

const OPERATOR_ACTIONS = ['force-open', 'disable', 'metrics-only', 'reset'] as const;
type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** The field a validation error is about: `quantity`, `records/3/region`… */
function fieldOf(error: { instancePath?: string; params?: Record<string, unknown> }): string {
  const path = (error.instancePath ?? '').replace(/^\//, '');
  const extra = (error.params?.missingProperty ?? error.params?.additionalProperty) as string | undefined;
  return [path, extra].filter(Boolean).join('/') || '(body)';
}

/** The HTTP API, the dashboard and its event stream, and the operator endpoints. Bind it with `app.listen`. */
export async function buildServer(demo: Demo, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const log = demo.logger.child({ component: 'http' });

  app.setErrorHandler((error: Error & { validation?: unknown[]; statusCode?: number }, request, reply) => {
    if (Array.isArray(error.validation) && error.validation.length > 0) {
      const first = error.validation[0] as {
        instancePath?: string;
        params?: Record<string, unknown>;
        message?: string;
      };
      const field = fieldOf(first);
      return reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${first.message ?? 'invalid'}` });
    }
    if (error instanceof CalculationError) {
      return reply.code(error.status).send({
        error: error.status === 400 ? 'bad_request' : error.status === 422 ? 'no_factor' : 'unavailable',
        ...(error.field ? { field: error.field } : {}),
        message: error.message,
      });
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.endsWith('_INVALID_ARGUMENT')) {
      const path = (error as { issues?: Array<{ path?: string }> }).issues?.[0]?.path;
      return reply.code(400).send({ error: 'bad_request', ...(path ? { field: path } : {}), message: error.message });
    }
    if (
      typeof code === 'string' &&
      (code.endsWith('_UNAVAILABLE') || code === 'DB_POOL_FULL' || code.endsWith('_CLOSED'))
    ) {
      return reply.code(503).send({ error: 'unavailable', code, message: error.message });
    }
    if (error.statusCode && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message });
    log.error({ err: error, url: request.url }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: error.message });
  });

  app.post('/calculate', { schema: { body: record } }, async (request, reply) =>
    demo.agents.calculator.calculate(request.body as never, { signal: abortOnClose(reply) }),
  );

  app.post(
    '/calculate/batch',
    {
      schema: {
        body: {
          type: 'object',
          required: ['records'],
          additionalProperties: false,
          properties: {
            records: { type: 'array', minItems: 1, maxItems: 1_000, items: record },
            concurrency: { type: 'integer', minimum: 1, maximum: 32 },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as { records: never[]; concurrency?: number };
      return demo.agents.calculator.calculateBatch(body.records, { concurrency: body.concurrency ?? 4 });
    },
  );

  app.post(
    '/intake/run',
    {
      schema: {
        body: {
          type: 'object',
          required: ['system'],
          additionalProperties: false,
          properties: {
            system: { type: 'string', enum: ['sap', 'oracle', 'workday'] },
            since: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            until: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          },
        },
      },
    },
    async (request, reply) => demo.agents.intake.run(request.body as never, { signal: abortOnClose(reply) }),
  );

  app.post(
    '/reports/send',
    {
      schema: {
        body: {
          type: 'object',
          required: ['to'],
          additionalProperties: false,
          properties: {
            to: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', maxLength: 254 },
            id: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (request) => demo.agents.reporting.send(request.body as never),
  );

  app.get('/health/circuit-breakers', async (_request, reply) => {
    const health = demo.registry.health();
    return reply.code(health.status === 'down' ? 503 : 200).send(health);
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(demo.prom.contentType).send(await demo.prom.metrics());
  });

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(dashboardHtml()));

  app.get('/api/circuits', async () => ({ circuits: await circuitViews(demo), at: Date.now() }));

  // The dashboard's break and heal buttons: they act on the simulated upstreams, never on a circuit.
  app.post(
    '/upstreams/:name/:action',
    {
      schema: {
        params: {
          type: 'object',
          required: ['name', 'action'],
          properties: { name: { type: 'string' }, action: { type: 'string', enum: ['break', 'heal'] } },
        },
      },
    },
    async (request, reply) => {
      const { name, action } = request.params as { name: string; action: 'break' | 'heal' };
      const control = demo.upstreams.controls.get(name);
      if (!control)
        return reply.code(404).send({ error: 'not_found', field: 'name', message: `no simulated upstream "${name}"` });
      await control[action]();
      log.info({ upstream: name, action }, `simulated upstream ${name}: ${action}`);
      return { name, broken: control.broken, fault: control.fault, circuit: control.circuit };
    },
  );

  // Operator endpoints, as resilience4j's actuator has them.
  const operator = async (request: FastifyRequest, reply: FastifyReply): Promise<CircuitBreaker | undefined> => {
    const token = options.operatorToken;
    if (!token) {
      await reply
        .code(404)
        .send({ error: 'not_found', message: 'operator endpoints are off: set GL_VCCI_OPERATOR_TOKEN' });
      return undefined;
    }
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      log.warn(
        { url: request.url, method: request.method, ip: request.ip },
        'operator endpoint refused: missing or wrong bearer token',
      );
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'a valid bearer token is required' });
      return undefined;
    }
    const { name } = request.params as { name: string };
    const breaker = demo.registry.get(name);
    if (!breaker) {
      await reply.code(404).send({ error: 'not_found', field: 'name', message: `no circuit "${name}"` });
      return undefined;
    }
    return breaker;
  };

  app.get('/circuits/:name', async (request, reply) => {
    const breaker = await operator(request, reply);
    if (!breaker) return reply;
    const view = (await circuitViews(demo)).find((v) => v.name === breaker.name);
    return { ...view, snapshot: breaker.snapshot() };
  });

  app.post(
    '/circuits/:name/:action',
    {
      schema: {
        params: {
          type: 'object',
          required: ['name', 'action'],
          properties: { name: { type: 'string' }, action: { type: 'string', enum: [...OPERATOR_ACTIONS] } },
        },
      },
    },
    async (request, reply) => {
      const breaker = await operator(request, reply);
      if (!breaker) return reply;
      const { action } = request.params as { action: OperatorAction };
      const from = breaker.state;
      if (action === 'force-open') breaker.forceOpen();
      else if (action === 'disable') breaker.disable();
      else if (action === 'metrics-only') breaker.metricsOnly();
      else breaker.reset();
      if (action === 'reset') demo.manual.delete(breaker.name);
      else demo.manual.set(breaker.name, { action, since: Date.now() });
      log.warn({ circuit: breaker.name, action, from, to: breaker.state }, `operator: ${action} on ${breaker.name}`);
      return { name: breaker.name, action, from, state: breaker.state, manual: demo.manual.get(breaker.name) };
    },
  );

  // Server-sent events: the circuits every period (with calls/s), and each transition as it happens.
  const streams = new Set<(event: string, data: unknown) => void>();
  let previous = new Map<string, { calls: number; at: number }>();
  let ticker: NodeJS.Timeout | undefined;
  const tick = async () => {
    const views = await circuitViews(demo);
    const now = Date.now();
    const next = new Map<string, { calls: number; at: number }>();
    const withRates = views.map((v: CircuitView) => {
      const before = previous.get(v.name);
      next.set(v.name, { calls: v.calls, at: now });
      const rate = before && now > before.at ? ((v.calls - before.calls) * 1000) / (now - before.at) : 0;
      return { ...v, callsPerSecond: Math.round(rate * 10) / 10 };
    });
    previous = next;
    for (const send of streams)
      send('circuits', { circuits: withRates, health: demo.registry.health().status, at: now });
  };
  const unsubscribe = demo.onTransition((t) => {
    for (const send of streams) {
      send('transition', {
        circuit: t.circuitName,
        from: t.from,
        to: t.to,
        reason: t.reason,
        at: t.wallAt,
        error: t.error,
      });
    }
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    clearInterval(ticker);
    for (const send of streams) send('bye', {});
  });

  app.get('/events', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const send = (event: string, data: unknown) => {
      if (event === 'bye') return void res.end();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    streams.add(send);
    if (!ticker) {
      ticker = setInterval(
        () => void tick().catch((error: unknown) => log.warn({ err: error }, 'dashboard update failed')),
        options.ssePeriodMs ?? 500,
      );
    }
    void tick().catch(() => {});
    request.raw.on('close', () => {
      streams.delete(send);
      if (streams.size === 0) {
        clearInterval(ticker);
        ticker = undefined;
      }
    });
  });

  return app;
}

/** Aborts when the client goes away before its answer was written. */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client went away'));
  });
  return controller.signal;
}
