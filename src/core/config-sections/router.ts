import { z } from 'zod'

const healthCheck = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Run active health checks (GET path on every backend).'),
    path: z.string().startsWith('/').default('/healthz').describe('Path of the active check; 2xx and 3xx pass.'),
    interval: z.string().default('2s').describe('Time between checks, e.g. 2s.'),
    timeout: z.string().default('1s').describe('A check without an answer this long fails.'),
    rise: z.number().int().min(1).max(100).default(2).describe('Passing checks in a row that bring a down backend back.'),
    fall: z.number().int().min(1).max(100).default(3).describe('Failed checks in a row that take a backend out.'),
  })
  .default({ enabled: true, path: '/healthz', interval: '2s', timeout: '1s', rise: 2, fall: 3 })
  .describe('Active health checks of the built-in router.')

const passive = z
  .strictObject({
    connectFailures: z.number().int().min(0).default(3).describe('Requests in a row without an answer that take a backend out (0: never).'),
    errorBurst: z.number().int().min(0).default(20).describe('5xx answers in a row that take a backend out (0: never).'),
    cooldown: z.string().default('10s').describe('Without active checks: how long a passively downed backend stays out before a retry.'),
  })
  .default({ connectFailures: 3, errorBurst: 20, cooldown: '10s' })
  .describe('Passive health: real traffic taking failing backends out between checks.')

const samples = z
  .strictObject({
    epoch: z.string().default('1s').describe('Bookkeeping epoch of the latency samples; windows start on an epoch boundary.'),
    perEpoch: z.number().int().min(1).max(65_536).default(256).describe('Latencies kept per backend per epoch (a uniform reservoir).'),
    retain: z.string().default('30m').describe('How far back sample windows can reach.'),
  })
  .default({ epoch: '1s', perEpoch: 256, retain: '30m' })
  .describe('Raw latency samples kept for the canary judge (bounded: retain / epoch x perEpoch per backend).')

export const routerSection = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('Address the built-in router listens on.'),
    port: z.number().int().min(0).max(65535).default(8080).describe('Port of the built-in router; 0 picks a free one.'),
    adminHost: z.string().default('127.0.0.1').describe('Address of the admin API (loopback unless adminRemote).'),
    adminPort: z.number().int().min(0).max(65535).default(8081).describe('Port of the admin API; 0 picks a free one.'),
    adminRemote: z.boolean().default(false).describe('Allow the admin API on a non-loopback address.'),
    token: z.string().optional().describe('Admin API token (OPSCTL_ROUTER_TOKEN); default: generated once in .opsctl/router/token.'),
    backends: z.array(z.string()).default([]).describe('Backends as [pool/]name=http://host:port, as --backend takes them.'),
    weights: z.array(z.string()).default([]).describe('Initial weights as name=percent (stable=90), per pool summing to 100.'),
    routes: z.array(z.string()).default([]).describe('Path-prefix routes as /prefix=pool, as --route takes them.'),
    stickyCookie: z.string().optional().describe('Keep each client on its backend with this cookie.'),
    stickyHeader: z.string().optional().describe('Hash this request header (a user id) to pick the backend: one user, one backend.'),
    overrideHeader: z.string().default('x-opsctl-route').describe('Header naming a backend that wins over weights and stickiness.'),
    exposeBackend: z.boolean().default(true).describe('Add x-opsctl-backend: <name> to answers.'),
    drainTimeout: z.string().default('30s').describe('How long a drain waits for in-flight requests before aborting them.'),
    upstreamTimeout: z.string().default('60s').describe('A backend silent this long (headers or body) fails the request with 504.'),
    healthCheck,
    passive,
    samples,
    haproxySocket: z
      .string()
      .optional()
      .describe("HAProxy's admin stats socket: router commands drive HAProxy instead of the built-in router."),
    haproxyLog: z
      .string()
      .optional()
      .describe("UDP host:port HAProxy logs each request to in opsctl's format (haproxy-config writes it), for raw latency samples."),
  })
  .default({
    host: '127.0.0.1',
    port: 8080,
    adminHost: '127.0.0.1',
    adminPort: 8081,
    adminRemote: false,
    backends: [],
    weights: [],
    routes: [],
    overrideHeader: 'x-opsctl-route',
    exposeBackend: true,
    drainTimeout: '30s',
    upstreamTimeout: '60s',
    healthCheck: { enabled: true, path: '/healthz', interval: '2s', timeout: '1s', rise: 2, fall: 3 },
    passive: { connectFailures: 3, errorBurst: 20, cooldown: '10s' },
    samples: { epoch: '1s', perEpoch: 256, retain: '30m' },
  })
  .describe('Traffic control: the built-in router (opsctl router start) or HAProxy through its runtime API.')
