/**
 * `opsctl incident receive`: an HTTP endpoint for Alertmanager's webhook_config. An adapter: it
 * checks the request (path, method, credentials as http_config sends them, size, content type),
 * parses the body (alertmanager.ts), and hands the delivery to deliverAlerts, one delivery at a
 * time so that a redelivery racing its original is recognised. Every refusal is a 4xx with a
 * reason and writes nothing; Alertmanager does not retry a 4xx. A journal that cannot be written
 * is a 5xx, which Alertmanager retries: the redelivery then writes what is missing, never twice.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { badInput, environmentError, isOpsError, parseSize, redactText, systemClock, type Clock, type Settings } from '../core/index.js'
import { openJournal } from '../journal/index.js'
import { parseAlertmanagerPayload } from './alertmanager.js'
import { IncidentCache } from './incident-cache.js'
import { deliverAlerts, type DeliveryOutcome } from './incidents.js'

export interface ReceiverCredentials {
  /** `Authorization: Bearer <token>` (http_config.authorization). */
  token?: string
  /** `Authorization: Basic ...` (http_config.basic_auth). */
  username?: string
  password?: string
}

export interface ReceiverRequest {
  host?: string
  port?: number
  path?: string
  /** A file holding the bearer token (as Alertmanager's credentials_file). */
  tokenFile?: string
}

export interface ReceiverOptions {
  host: string
  port: number
  path: string
  maxBodyBytes: number
  actor: string
  credentials: ReceiverCredentials
  clock?: Clock
  env?: NodeJS.ProcessEnv
  /** Every answered request, for the command's log on stderr. */
  onRequest?: (report: RequestReport) => void
}

/** One answered request: what came, what was answered, how long it took. */
export interface RequestReport {
  at: string
  method: string
  path: string
  status: number
  outcome?: DeliveryOutcome
  incident?: string
  reason: string
  durationMs: number
}

export interface AlertReceiver {
  url: string
  host: string
  port: number
  /** Which credentials are accepted (never their values). */
  auth: Array<'bearer' | 'basic'>
  stop(): Promise<void>
}

/** The receiver's options from the config section incident.receiver, flags over it. */
export function receiverOptions(settings: Settings, request: ReceiverRequest = {}): ReceiverOptions {
  const configured = settings.config.incident.receiver
  const credentials: ReceiverCredentials = {}
  const token = request.tokenFile ? readTokenFile(request.tokenFile) : configured.token
  if (token) credentials.token = token
  if (configured.username || configured.password) {
    if (!configured.username || !configured.password)
      throw badInput(
        'incident.receiver needs both username and password for basic auth',
        'Set both (OPSCTL_INCIDENT_RECEIVER_USERNAME and OPSCTL_INCIDENT_RECEIVER_PASSWORD), or use a bearer token.',
      )
    credentials.username = configured.username
    credentials.password = configured.password
  }
  if (!credentials.token && !credentials.username)
    throw badInput(
      'The receiver needs credentials: a bearer token or a basic auth user and password',
      'Set OPSCTL_INCIDENT_RECEIVER_TOKEN (16 characters at least; e.g. openssl rand -hex 24), or give --token-file, and put the same in http_config.authorization.credentials of the webhook_config.',
    )
  const path = request.path ?? configured.path
  if (!/^\/[\w./-]*$/.test(path)) throw badInput(`Invalid path "${path}"`, 'Give a path such as /alertmanager.')
  return {
    host: request.host ?? configured.host,
    port: request.port ?? configured.port,
    path,
    maxBodyBytes: parseSize(configured.maxBody, 'incident.receiver.maxBody'),
    actor: configured.actor,
    credentials,
  }
}

function readTokenFile(file: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw badInput(`Cannot read the token file ${file}: ${(error as Error).message}`, 'Give a file that holds the bearer token.')
  }
  const token = text.trim()
  if (token.length < 16 || /\s/.test(token))
    throw badInput(`${file}: a token is one word of 16 characters at least`, 'Write a token such as the output of openssl rand -hex 24.')
  return token
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

export async function startAlertReceiver(settings: Settings, options: ReceiverOptions): Promise<AlertReceiver> {
  const clock = options.clock ?? systemClock
  const store = await openJournal(settings)
  const cache = new IncidentCache()
  const expected = credentialDigests(options.credentials)
  const challenge = [options.credentials.token ? 'Bearer realm="opsctl"' : '', options.credentials.username ? 'Basic realm="opsctl"' : '']
    .filter(Boolean)
    .join(', ')
  // One delivery at a time: a redelivery must see what its original wrote.
  let queue: Promise<unknown> = Promise.resolve()
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work)
    queue = next.catch(() => undefined)
    return next
  }

  const server = createServer((request, response) => {
    const started = performance.now()
    const path = (request.url ?? '/').split('?')[0]!
    const report = (status: number, reason: string, extra: Partial<RequestReport> = {}) =>
      options.onRequest?.({
        at: clock.now().toISOString(),
        method: request.method ?? '?',
        path: path.slice(0, 200),
        status,
        reason,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...extra,
      })
    handle(request, path)
      .then((answer) => {
        send(response, 200, answer.body)
        report(200, answer.body.reason ?? answer.body.outcome, {
          outcome: answer.body.outcome,
          ...(answer.body.incident ? { incident: answer.body.incident } : {}),
        })
      })
      .catch((error: unknown) => {
        const failure = asRefusal(error)
        send(response, failure.status, { error: redactText(failure.message) }, failure.headers)
        report(failure.status, redactText(failure.message))
      })
  })

  async function handle(request: IncomingMessage, path: string): Promise<{ body: DeliveryAnswer }> {
    if (request.method === 'GET' && path === '/-/healthy') return { body: { outcome: 'unchanged', reason: 'healthy' } }
    if (path !== options.path)
      throw new Refusal(404, `no receiver at ${path.slice(0, 200)}; Alertmanager's webhook_config url ends with ${options.path}`)
    if (request.method !== 'POST') throw new Refusal(405, `${request.method} is not allowed; Alertmanager POSTs`, { allow: 'POST' })
    if (!authorized(request.headers.authorization, expected))
      throw new Refusal(
        401,
        request.headers.authorization ? 'the credentials do not match' : 'missing credentials: set http_config in the webhook_config',
        { 'www-authenticate': challenge },
      )
    const type = request.headers['content-type']
    if (type !== undefined && !/^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i.test(type))
      throw new Refusal(415, `content type ${type.slice(0, 100)} is not JSON`)
    const body = await readBody(request, options.maxBodyBytes)
    const delivery = parseAlertmanagerPayload(body, 'request body', { webhookOnly: true })
    const result = await serialized(() =>
      deliverAlerts(settings, store, delivery, {
        actor: options.actor,
        via: 'webhook',
        cache,
        clock,
        ...(options.env ? { env: options.env } : {}),
      }),
    )
    return {
      body: {
        outcome: result.outcome,
        ...(result.incident ? { incident: result.incident.id, status: result.incident.status } : {}),
        ...(result.reason ? { reason: result.reason } : {}),
        events: result.eventIds,
      },
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? environmentError(
              `Port ${options.port} on ${options.host} is in use`,
              'Stop what uses it, or pick another with --port (0 picks a free one).',
              error,
            )
          : error,
      ),
    )
    server.listen(options.port, options.host, () => resolve())
  }).catch(async (error: unknown) => {
    await store.close()
    throw error
  })
  // Alertmanager's webhook timeout is 10s by default; a stuck client must not hold a socket longer.
  server.requestTimeout = 15_000
  server.headersTimeout = 10_000
  const { port } = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host
  let stopping: Promise<void> | undefined
  return {
    url: `http://${host}:${port}${options.path}`,
    host: options.host,
    port,
    auth: [...(options.credentials.token ? (['bearer'] as const) : []), ...(options.credentials.username ? (['basic'] as const) : [])],
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        await queue
        await store.close()
      })()
      return stopping
    },
  }
}

interface DeliveryAnswer {
  outcome: DeliveryOutcome
  incident?: string
  status?: string
  reason?: string
  events?: string[]
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return void response.destroy()
  const text = `${JSON.stringify(body)}\n`
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  response.end(text)
}

function asRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error
  if (isOpsError(error)) {
    // Bad input is the sender's (4xx, not retried); an environment failure (the journal) is retried by Alertmanager.
    if (error.exit === 2) return new Refusal(400, error.message)
    return new Refusal(503, `not recorded: ${error.message}`, { 'retry-after': '5' })
  }
  return new Refusal(500, `not recorded: ${(error as Error).message ?? String(error)}`)
}

/** The body as text, refused with 413 past the limit (by Content-Length before reading, or while reading). */
function readBody(request: IncomingMessage, max: number): Promise<string> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) {
    request.resume()
    return Promise.reject(
      new Refusal(413, `the body is ${declared} bytes; the limit is ${max} (incident.receiver.maxBody)`, { connection: 'close' }),
    )
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    request.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > max) {
        done = true
        request.resume()
        reject(new Refusal(413, `the body is larger than ${max} bytes (incident.receiver.maxBody)`, { connection: 'close' }))
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => {
      if (done) return
      done = true
      const buffer = Buffer.concat(chunks)
      const text = new TextDecoder('utf-8', { fatal: false }).decode(buffer)
      resolve(text)
    })
    request.on('error', (error) => {
      if (done) return
      done = true
      reject(new Refusal(400, `the request broke off: ${error.message}`))
    })
    request.on('aborted', () => {
      if (done) return
      done = true
      reject(new Refusal(400, 'the request broke off before its end'))
    })
  })
}

interface Digests {
  bearer?: Buffer
  basic?: Buffer
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Credentials are compared as SHA-256 digests with timingSafeEqual: constant time, whatever the length given. */
function credentialDigests(credentials: ReceiverCredentials): Digests {
  return {
    ...(credentials.token ? { bearer: digest(credentials.token) } : {}),
    ...(credentials.username && credentials.password ? { basic: digest(`${credentials.username}:${credentials.password}`) } : {}),
  }
}

function authorized(header: string | undefined, expected: Digests): boolean {
  if (!header) return false
  const match = /^\s*(bearer|basic)\s+(\S+)\s*$/i.exec(header)
  if (!match) return false
  const scheme = match[1]!.toLowerCase()
  if (scheme === 'bearer') return expected.bearer !== undefined && timingSafeEqual(digest(match[2]!), expected.bearer)
  if (expected.basic === undefined) return false
  const decoded = Buffer.from(match[2]!, 'base64').toString('utf8')
  return timingSafeEqual(digest(decoded), expected.basic)
}
