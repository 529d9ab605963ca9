/**
 * What a load run does, as plain data: built from a scenario file or from the quick form's
 * flags, checked once, then handed to the runner (and, structured-cloned, to worker threads).
 */
import type { ArrivalPlan } from './arrival.js'
import type { BodyExpectation, Template, Values, VariableSpec } from './template.js'
import { renderTemplate } from './template.js'
import type { Threshold } from './thresholds.js'

export interface RequestSpec {
  name: string
  weight: number
  method: string
  path: Template
  headers: Array<{ name: string; value: Template }>
  body?: Template
  variables: Record<string, VariableSpec>
  expect: {
    /** Accepted status codes; without them any status below 400 is a success. */
    status?: number[]
    body?: BodyExpectation
  }
}

export interface Target {
  /** As the user wrote it (shown in output, with any password redacted there). */
  url: string
  protocol: 'http:' | 'https:'
  /** The Host header. */
  host: string
  /** The address connected to: the name resolved once, so every connection goes to the same place. */
  address: string
  port: number
  /** A path prefix from the target URL, prepended to every request path. */
  basePath: string
}

export interface LoadPlan {
  name: string
  target: Target
  model: 'open' | 'closed'
  connections: number
  /** Open model: the arrival schedule over the whole run, warm-up included. */
  arrival?: ArrivalPlan
  /** Measured time after the warm-up (duration runs). */
  durationMs?: number
  /** Measured requests after the warm-up (count runs). */
  requests?: number
  /** A count run stops here even if the count was not reached. */
  maxDurationMs: number
  warmupMs: number
  timeoutMs: number
  /** Worker threads: 0 runs in the main thread. */
  workers: number
  seed: number
  specs: RequestSpec[]
  thresholds: Threshold[]
}

// --- HTTP/1.1 requests as bytes ---

export interface CompiledRequest {
  spec: RequestSpec
  /** The same bytes every time: built once. */
  fixed: Buffer | undefined
  build(values: Values): Buffer
}

const CRLF = '\r\n'

export function compileRequest(spec: RequestSpec, target: Target): CompiledRequest {
  const hasHeader = (name: string) => spec.headers.some((header) => header.name.toLowerCase() === name)
  const build = (values: Values): Buffer => {
    const path = target.basePath + renderTemplate(spec.path, values)
    const body = spec.body ? Buffer.from(renderTemplate(spec.body, values)) : undefined
    let head = `${spec.method} ${path} HTTP/1.1${CRLF}`
    if (!hasHeader('host')) head += `Host: ${target.host}${CRLF}`
    head += `Connection: keep-alive${CRLF}`
    for (const header of spec.headers) head += `${header.name}: ${renderTemplate(header.value, values).replace(/[\r\n]/g, ' ')}${CRLF}`
    if (body && body.length > 0) head += `Content-Length: ${body.length}${CRLF}`
    head += CRLF
    return body && body.length > 0 ? Buffer.concat([Buffer.from(head), body]) : Buffer.from(head)
  }
  const dynamic =
    spec.path.variables.length > 0 ||
    (spec.body?.variables.length ?? 0) > 0 ||
    spec.headers.some((header) => header.value.variables.length > 0)
  return { spec, fixed: dynamic ? undefined : build({}), build }
}

/** Index of the request to send, chosen by weight with `roll` in [0, 1). */
export function chooseByWeight(cumulativeWeights: readonly number[], roll: number): number {
  const total = cumulativeWeights[cumulativeWeights.length - 1] ?? 0
  const point = roll * total
  let low = 0
  let high = cumulativeWeights.length - 1
  while (low < high) {
    const middle = (low + high) >> 1
    if (cumulativeWeights[middle]! > point) high = middle
    else low = middle + 1
  }
  return low
}

export function cumulativeWeights(specs: readonly RequestSpec[]): number[] {
  let total = 0
  return specs.map((spec) => (total += spec.weight))
}
