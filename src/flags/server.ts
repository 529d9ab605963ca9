/**
 * `opsctl flags serve`: flags.yaml over Unleash's client API (for server-side SDKs, which
 * evaluate themselves) and its frontend API (evaluated here, for browser SDKs), with token
 * auth per environment, ETag/304, metrics, and hot reload. An adapter: HTTP and files at the
 * edges; the payloads come from the pure client-api and evaluate modules.
 */
import { watch, statSync, type FSWatcher } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, dirname } from 'node:path'
import { badInput, environmentError, isOpsError, systemClock, type Clock, type OpsError } from '../core/index.js'
import {
  clientDeltaResponse,
  clientFeaturesResponse,
  etagOf,
  toClientFeatures,
  toClientSegments,
  type ClientFeature,
  type ClientQuery,
  type ClientSegment,
} from './client-api.js'
import { evaluateFeature, type EvaluationContext } from './evaluate.js'
import { readFlagsFile, type LoadedFlags } from './flags-file.js'
import { FlagMetricsRecorder, metricsBodySchema, registerBodySchema, type FlagMetrics } from './metrics.js'
import { completeTokens, findToken, readTokensFile, writeTokensFile, type FlagTokens, type TokenType } from './tokens.js'

export const DEFAULT_FLAG_SERVER_PORT = 4242

export interface FlagServerOptions {
  /** flags.yaml. It must be valid at start; later bad edits keep the last good version. */
  file: string
  /** Default 127.0.0.1: flags are served to this machine unless asked otherwise. */
  host?: string
  /** Default 4242 (Unleash's); 0 picks a free port. */
  port?: number
  /** Tokens to accept; environments without one get a generated token. */
  tokens?: Partial<FlagTokens>
  /** Keep generated tokens here (mode 600) and reuse them on the next start. */
  tokensFile?: string
  /** Where SDK metrics accumulate (e.g. .opsctl/flags/metrics.json); absent: kept in memory only. */
  metricsFile?: string
  /** Watch the file and reload it when it changes (default true). */
  watch?: boolean
  /** Also compare the file's stat at this interval, for file systems without change events (default 1000 ms). */
  pollIntervalMs?: number
  /** Every reload that changed the flags or failed. */
  onReload?: (event: ReloadEvent) => void
  /** Diagnostics: metrics that could not be written, and the like. */
  log?: (message: string) => void
  clock?: Clock
  random?: () => number
}

export interface ReloadEvent {
  ok: boolean
  /** False when the file was read and held the same flags. */
  changed: boolean
  file: string
  flags: number
  /** A failed reload: the message has file:line:col. The last good flags stay served. */
  error?: OpsError
  /** A successful one: what the new file says that is valid but probably not meant. */
  notices?: string[]
}

export interface FlagServer {
  /** What SDKs take as their url (UNLEASH_URL): http://127.0.0.1:PORT/api */
  url: string
  host: string
  port: number
  /** Tokens per environment, client and frontend. */
  tokens: FlagTokens
  environments(): string[]
  /** Notices of the flags served now (see flagsFileNotices). */
  notices(): string[]
  /** Reads the file now (the watcher does this by itself). */
  reload(): ReloadEvent
  /** Metrics so far, including those not yet written. */
  metrics(): FlagMetrics
  /** Stops listening, closes SDK connections, writes pending metrics. Idempotent. */
  stop(): Promise<void>
}

const MAX_BODY_BYTES = 1024 * 1024

export async function startFlagServer(options: FlagServerOptions): Promise<FlagServer> {
  const clock = options.clock ?? systemClock
  const random = options.random ?? Math.random
  const log = options.log ?? (() => {})
  let current: LoadedFlags = readFlagsFile(options.file)
  /** Bumped at every change of the flags: the delta API's revision. */
  let revision = 1
  let features = new Map<string, ClientFeature[]>()
  let segments: Map<number, ClientSegment> | undefined
  let responses = new Map<string, { text: string; etag: string }>()
  const streams = new Set<{ environment: string; query: ClientQuery; response: ServerResponse }>()
  let lastError: string | undefined

  const tokens: FlagTokens = {
    client: { ...options.tokens?.client },
    frontend: { ...options.tokens?.frontend },
  }
  const saved = options.tokensFile ? readTokensFile(options.tokensFile) : undefined
  if (saved) {
    for (const type of ['client', 'frontend'] as const) tokens[type] = { ...saved[type], ...tokens[type] }
  }
  const ensureTokens = async () => {
    if (completeTokens(tokens, current.flags.environments) && options.tokensFile) await writeTokensFile(options.tokensFile, tokens)
  }
  await ensureTokens()

  const metrics = new FlagMetricsRecorder(options.metricsFile, clock, 1000, (error) =>
    log(`flags serve: cannot write metrics to ${options.metricsFile}: ${error.message}`),
  )

  const featuresOf = (environment: string): ClientFeature[] => {
    let list = features.get(environment)
    if (!list) features.set(environment, (list = toClientFeatures(current.flags, environment)))
    return list
  }
  const segmentsById = (): Map<number, ClientSegment> =>
    (segments ??= new Map(toClientSegments(current.flags).map((segment) => [segment.id, segment])))

  /** Streaming SDKs get the new flags as they change, as one hydration event. */
  const publish = () => {
    for (const stream of streams) {
      const body = clientDeltaResponse(current.flags, stream.environment, stream.query, revision)
      stream.response.write(`id: ${revision}\nevent: unleash-updated\ndata: ${JSON.stringify(body)}\n\n`)
    }
  }

  const reload = (): ReloadEvent => {
    try {
      const next = readFlagsFile(options.file)
      // An editor that truncates before writing shows an empty file for a moment: never serve "no flags" from that.
      if (next.text.trim() === '' && current.text.trim() !== '')
        throw badInput(`${options.file} is empty`, 'Write the flags back; the last good ones are served meanwhile.')
      const recovered = lastError !== undefined
      lastError = undefined
      if (next.text === current.text) {
        const unchanged = { ok: true, changed: false, file: options.file, flags: Object.keys(current.flags.flags).length }
        // Back to the good version after a broken edit: say so, or the last word would be the error.
        if (recovered) options.onReload?.(unchanged)
        return unchanged
      }
      current = next
      revision++
      features = new Map()
      segments = undefined
      responses = new Map()
      publish()
      void ensureTokens().catch((error: Error) => log(`flags serve: cannot write tokens: ${error.message}`))
      const event = {
        ok: true,
        changed: true,
        file: options.file,
        flags: Object.keys(current.flags.flags).length,
        ...(current.notices.length ? { notices: current.notices } : {}),
      }
      options.onReload?.(event)
      return event
    } catch (error) {
      const failure = isOpsError(error) ? error : environmentError(`Cannot reload ${options.file}: ${(error as Error).message}`)
      const event: ReloadEvent = {
        ok: false,
        changed: false,
        file: options.file,
        flags: Object.keys(current.flags.flags).length,
        error: failure,
      }
      // The poller would report the same broken file every second; once per distinct error is enough.
      if (failure.message !== lastError) options.onReload?.(event)
      lastError = failure.message
      return event
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) sendJson(response, 500, { message: `internal error: ${error.message}` })
      else response.destroy()
    })
  })

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://flags.invalid')
    const path = url.pathname.replace(/\/+$/, '') || '/'
    const method = request.method ?? 'GET'
    if (path === '/health') return sendJson(response, 200, { health: 'GOOD' })

    const frontend = path === '/api/frontend' || path.startsWith('/api/frontend/')
    if (frontend) {
      // Browser SDKs call from other origins; the token, not the origin, is the access control.
      response.setHeader('access-control-allow-origin', '*')
      response.setHeader('access-control-expose-headers', 'etag')
      if (method === 'OPTIONS') {
        response.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers':
            'authorization, content-type, if-none-match, unleash-appname, unleash-instanceid, unleash-connection-id, unleash-sdk, unleash-interval, x-unleash-sdk',
          'access-control-max-age': '86400',
        })
        return void response.end()
      }
    }

    const route = ROUTES[`${method} ${path}`]
    if (!route) {
      const known = Object.keys(ROUTES).some((key) => key.endsWith(` ${path}`))
      return sendJson(response, known ? 405 : 404, { message: known ? `${method} is not allowed on ${path}` : `no route ${path}` })
    }
    const access = authenticate(request, route.api)
    if (!access) {
      return sendJson(
        response,
        401,
        { message: `a valid ${route.api} token is required in the Authorization header` },
        { 'www-authenticate': 'Unleash' },
      )
    }
    switch (route.action) {
      case 'features': {
        // SDKs poll every few seconds: the document is built once per version of the file, environment and query.
        const query = clientQuery(url, request)
        const key = `${access.environment}\u0000${JSON.stringify(query)}`
        let cached = responses.get(key)
        if (!cached) {
          const body = clientFeaturesResponse(current.flags, access.environment, query, revision)
          responses.set(key, (cached = { text: JSON.stringify(body), etag: body.meta.etag }))
        }
        return sendWithEtag(request, response, cached.text, cached.etag)
      }
      case 'delta': {
        // One hydration event with everything: an SDK that is up to date gets 304, any other the whole state.
        const query = clientQuery(url, request)
        const body = clientDeltaResponse(current.flags, access.environment, query, revision)
        return sendWithEtag(request, response, JSON.stringify(body), `"${revision}:${etagOf(query).slice(1, 9)}"`)
      }
      case 'streaming': {
        const query = clientQuery(url, request)
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
        const body = clientDeltaResponse(current.flags, access.environment, query, revision)
        response.write(`id: ${revision}\nevent: unleash-connected\ndata: ${JSON.stringify(body)}\n\n`)
        const stream = { environment: access.environment, query, response }
        streams.add(stream)
        request.on('close', () => streams.delete(stream))
        return
      }
      case 'frontend': {
        const input = method === 'POST' ? await readJson(request) : undefined
        if (input === INVALID) return sendJson(response, 400, { message: 'the body must be JSON' })
        const context = frontendContext(url, input, access.environment)
        const list = featuresOf(access.environment)
        const evaluation = {
          now: clock.now(),
          random,
          features: new Map(list.map((feature) => [feature.name, feature])),
          segments: segmentsById(),
        }
        const toggles = list.flatMap((feature) => {
          const result = evaluateFeature(feature, context, evaluation)
          return result.enabled
            ? [{ name: feature.name, enabled: true, variant: result.variant, impressionData: feature.impressionData }]
            : []
        })
        const body = { toggles }
        return sendWithEtag(request, response, JSON.stringify(body), etagOf(body))
      }
      case 'register': {
        const parsed = registerBodySchema.safeParse(await readJson(request))
        if (!parsed.success) return sendJson(response, 400, { message: 'a registration needs appName' })
        metrics.register(access.environment, parsed.data)
        return sendEmpty(response, 202)
      }
      case 'metrics': {
        const parsed = metricsBodySchema.safeParse(await readJson(request))
        if (!parsed.success) return sendJson(response, 400, { message: 'metrics need appName and bucket.toggles with yes/no counts' })
        metrics.addBucket(access.environment, parsed.data)
        return sendEmpty(response, 202)
      }
    }
  }

  function authenticate(request: IncomingMessage, api: TokenType): { environment: string } | undefined {
    const header = request.headers.authorization?.trim()
    if (!header) return undefined
    const found = findToken(tokens, header.replace(/^Bearer\s+/i, ''))
    return found?.type === api ? { environment: found.environment } : undefined
  }

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? environmentError(
              `Port ${options.port ?? DEFAULT_FLAG_SERVER_PORT} on ${host} is in use`,
              'Stop what uses it, or pick another with --port (0 picks a free one).',
              error,
            )
          : error,
      ),
    )
    server.listen(options.port ?? DEFAULT_FLAG_SERVER_PORT, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo

  const watchers = options.watch === false ? undefined : watchFile(options.file, options.pollIntervalMs ?? 1000, reload)
  let stopping: Promise<void> | undefined
  const origin = `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
  return {
    url: `${origin}/api`,
    host,
    port,
    tokens,
    environments: () => [...current.flags.environments],
    notices: () => [...current.notices],
    reload,
    metrics: () => metrics.snapshot(),
    stop() {
      stopping ??= (async () => {
        watchers?.close()
        for (const stream of streams) stream.response.end()
        streams.clear()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await metrics.flush()
      })()
      return stopping
    },
  }
}

const ROUTES: Record<
  string,
  { api: TokenType; action: 'features' | 'delta' | 'streaming' | 'frontend' | 'register' | 'metrics' } | undefined
> = {
  'GET /api/client/features': { api: 'client', action: 'features' },
  'GET /api/client/delta': { api: 'client', action: 'delta' },
  'GET /api/client/streaming': { api: 'client', action: 'streaming' },
  'POST /api/client/register': { api: 'client', action: 'register' },
  'POST /api/client/metrics': { api: 'client', action: 'metrics' },
  'GET /api/frontend': { api: 'frontend', action: 'frontend' },
  'POST /api/frontend': { api: 'frontend', action: 'frontend' },
  'POST /api/frontend/client/register': { api: 'frontend', action: 'register' },
  'POST /api/frontend/client/metrics': { api: 'frontend', action: 'metrics' },
}

/**
 * The SDK's query filters, as Unleash reads them: `project` and `tag` (repeatable), `namePrefix`;
 * SDKs that announce client spec 4.2.0 or later get segments by id, older ones inlined.
 */
function clientQuery(url: URL, request: IncomingMessage): ClientQuery {
  const list = (name: string) =>
    url.searchParams
      .getAll(name)
      .flatMap((value) => value.split(','))
      .filter(Boolean)
  const spec = /^(\d+)\.(\d+)/.exec(String(request.headers['unleash-client-spec'] ?? ''))
  const supportsSegments = spec !== null && (Number(spec[1]) > 4 || (Number(spec[1]) === 4 && Number(spec[2]) >= 2))
  const project = list('project')
  const tag = url.searchParams.getAll('tag').filter(Boolean)
  const namePrefix = url.searchParams.get('namePrefix') ?? ''
  return {
    ...(project.length ? { project } : {}),
    ...(tag.length ? { tag } : {}),
    ...(namePrefix ? { namePrefix } : {}),
    ...(supportsSegments ? {} : { inlineSegments: true }),
  }
}

const STANDARD_FIELDS = new Set(['userId', 'sessionId', 'remoteAddress', 'appName', 'environment', 'currentTime'])

/**
 * The frontend API's context: query parameters (GET) or the JSON body (POST). As on Unleash, the
 * environment is the token's unless the context names one. Unlike Unleash, nothing is made up:
 * no caller address, no random sessionId (browser SDKs send their own), so that the frontend
 * API answers exactly what a server-side SDK answers for the same context.
 */
function frontendContext(url: URL, body: unknown, environment: string): EvaluationContext {
  const context: EvaluationContext = { environment, properties: {} }
  const assign = (key: string, value: unknown) => {
    if (value === undefined || value === null || typeof value === 'object') return
    const text = String(value)
    const property = /^properties\[(.+)\]$/.exec(key)?.[1]
    if (property) context.properties![property] = text
    else if (STANDARD_FIELDS.has(key)) (context as Record<string, unknown>)[key] = text
    else context.properties![key] = text
  }
  for (const [key, value] of url.searchParams) assign(key, value)
  if (body && typeof body === 'object') {
    const source = (body as { context?: unknown }).context ?? body
    if (source && typeof source === 'object') {
      for (const [key, value] of Object.entries(source)) {
        if (key === 'properties' && value && typeof value === 'object')
          for (const [name, item] of Object.entries(value)) assign(`properties[${name}]`, item)
        else assign(key, value)
      }
    }
  }
  return context
}

const INVALID = Symbol('invalid JSON')

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return INVALID
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return INVALID
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  response.end(text)
}

function sendEmpty(response: ServerResponse, status: number): void {
  response.writeHead(status, { 'content-length': 0 })
  response.end()
}

function sendWithEtag(request: IncomingMessage, response: ServerResponse, text: string, etag: string): void {
  const presented = request.headers['if-none-match']
  const matches = presented?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*')
  if (matches) {
    response.writeHead(304, { etag, 'cache-control': 'no-cache' })
    return void response.end()
  }
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    etag,
    'cache-control': 'no-cache',
  })
  response.end(text)
}

/**
 * Change events for the file: its directory is watched, because an atomic write replaces the
 * file (a rename) and a watch on the old inode would go quiet. A slow stat poll backs it up.
 */
function watchFile(file: string, pollIntervalMs: number, reload: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    if (timer) return
    timer = setTimeout(() => {
      timer = undefined
      reload()
    }, 30)
  }
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name === null || name === basename(file)) schedule()
    })
    watcher.on('error', () => watcher?.close())
  } catch {
    watcher = undefined // the poll still works
  }
  const signature = () => {
    try {
      const info = statSync(file)
      return `${info.ino}:${info.size}:${info.mtimeMs}`
    } catch {
      return 'missing'
    }
  }
  let last = signature()
  const poll = setInterval(() => {
    const now = signature()
    if (now !== last) {
      last = now
      schedule()
    }
  }, pollIntervalMs)
  poll.unref()
  return {
    close() {
      watcher?.close()
      clearInterval(poll)
      if (timer) clearTimeout(timer)
    },
  }
}
