/**
 * The router's topology as plain data: backends in pools, routes by path prefix, weights and
 * admin states. Pure: parsing of `--backend`, `--weights`, `--route` (and the same strings in
 * opsctl.yaml) and every validation rule, so that the CLI, the admin API and the state file refuse
 * the same things with the same words.
 */
import { badInput } from '../core/index.js'
import type { AdminState } from './control.js'

export const DEFAULT_POOL = 'default'
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

export interface BackendSpec {
  name: string
  pool: string
  /** Origin only: http(s)://host:port */
  url: string
}

export interface RouteSpec {
  /** `/payments`: matches /payments, /payments/..., /payments?..., not /paymentsX. */
  prefix: string
  pool: string
}

export interface Topology {
  backends: BackendSpec[]
  routes: RouteSpec[]
  /** pool -> backend -> weight (whole percent, summing to 100 per pool) */
  weights: Record<string, Record<string, number>>
  /** backend -> admin state (absent: ready) */
  states: Record<string, AdminState>
}

export function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw badInput(`${what} "${name}" is not a valid name: letters, digits, '.', '_' or '-', at most 63 characters`)
  return name
}

/** `stable=http://127.0.0.1:3001` or `payments/v2=http://10.0.0.5:8080`. */
export function parseBackendSpec(text: string, source = '--backend'): BackendSpec {
  const at = text.indexOf('=')
  if (at <= 0) throw badInput(`${source} ${JSON.stringify(text)}: expected [pool/]name=http://host:port`)
  const left = text.slice(0, at).trim()
  const slash = left.indexOf('/')
  const pool = slash === -1 ? DEFAULT_POOL : left.slice(0, slash)
  const name = slash === -1 ? left : left.slice(slash + 1)
  checkName(pool, `${source}: pool`)
  checkName(name, `${source}: backend`)
  return { name, pool, url: parseBackendUrl(text.slice(at + 1).trim(), `${source} ${name}`) }
}

export function parseBackendUrl(text: string, what: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw badInput(`${what}: "${text}" is not a URL`, 'Give the backend as http://host:port.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(`${what}: ${url.protocol} is not http: or https:`)
  if (url.username || url.password) throw badInput(`${what}: credentials in a backend URL are not supported`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw badInput(`${what}: give the origin only (http://host:port), not a path or query`, 'Requests keep their own path.')
  if (!url.hostname) throw badInput(`${what}: "${text}" has no host`)
  return url.origin
}

/** `stable=90,canary=10` (or already split on commas: several such strings). */
export function parseWeightList(texts: readonly string[], source = '--weights'): Record<string, number> {
  const weights: Record<string, number> = {}
  for (const item of texts.flatMap((text) => text.split(','))) {
    const trimmed = item.trim()
    if (trimmed === '') continue
    const at = trimmed.indexOf('=')
    if (at <= 0) throw badInput(`${source} ${JSON.stringify(trimmed)}: expected name=weight, e.g. stable=90,canary=10`)
    const name = trimmed.slice(0, at).trim()
    const valueText = trimmed.slice(at + 1).trim()
    if (name in weights) throw badInput(`${source}: ${name} is given twice`)
    weights[name] = parseWeight(valueText, `${source} ${name}`)
  }
  if (Object.keys(weights).length === 0) throw badInput(`${source}: no weights given`, 'e.g. stable=90,canary=10')
  return weights
}

export function parseWeight(text: string, what: string): number {
  const trimmed = text.replace(/%$/, '')
  if (!/^\d{1,3}$/.test(trimmed)) throw badInput(`${what}: weight "${text}" is not a whole number from 0 to 100`)
  return checkWeight(Number(trimmed), what)
}

export function checkWeight(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100)
    throw badInput(`${what}: weight ${JSON.stringify(value)} is outside 0–100 (whole percent)`)
  return value
}

/** `/payments=payments`: a path prefix and the pool it goes to. */
export function parseRouteSpec(text: string, source = '--route'): RouteSpec {
  const at = text.lastIndexOf('=')
  if (at <= 0) throw badInput(`${source} ${JSON.stringify(text)}: expected /prefix=pool`)
  const prefix = normalizePrefix(text.slice(0, at).trim(), source)
  return { prefix, pool: checkName(text.slice(at + 1).trim(), `${source} ${prefix}: pool`) }
}

export function normalizePrefix(prefix: string, source: string): string {
  if (!prefix.startsWith('/')) throw badInput(`${source}: prefix "${prefix}" must start with /`)
  if (/[?#\s]/.test(prefix)) throw badInput(`${source}: prefix "${prefix}" must be a path, without query, fragment or spaces`)
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') || '/' : prefix
}

/**
 * Checks a pool's new weights: every backend of the pool named, no other, each 0–100, summing to
 * 100. Returns them in the pool's backend order.
 */
export function checkPoolWeights(pool: string, members: readonly string[], given: Record<string, unknown>): Record<string, number> {
  if (members.length === 0) throw badInput(`Unknown pool "${pool}"`)
  const checked: Record<string, number> = {}
  for (const name of Object.keys(given)) {
    if (!members.includes(name)) throw badInput(`Unknown backend "${name}" in pool ${pool} (its backends: ${members.join(', ')})`)
  }
  const missing = members.filter((name) => !(name in given))
  if (missing.length > 0)
    throw badInput(
      `Give a weight for every backend of pool ${pool}: ${missing.join(', ')} missing`,
      `e.g. ${members.map((name, index) => `${name}=${index === 0 ? 100 : 0}`).join(',')}`,
    )
  let sum = 0
  for (const name of members) sum += checked[name] = checkWeight(given[name], `${pool}/${name}`)
  if (sum !== 100) throw badInput(`The weights of pool ${pool} sum to ${sum}, not 100`, 'Weights are shares of the pool in whole percent.')
  return checked
}

/** Equal shares summing to 100 (the first backends take the remainder). */
export function equalWeights(members: readonly string[]): Record<string, number> {
  const base = Math.floor(100 / members.length)
  let remainder = 100 - base * members.length
  return Object.fromEntries(members.map((name) => [name, base + (remainder-- > 0 ? 1 : 0)]))
}

export function poolMembers(backends: readonly BackendSpec[], pool: string): string[] {
  return backends.filter((backend) => backend.pool === pool).map((backend) => backend.name)
}

export function poolNames(backends: readonly BackendSpec[]): string[] {
  return [...new Set(backends.map((backend) => backend.pool))]
}

export interface TopologyInput {
  backends: readonly BackendSpec[]
  routes?: readonly RouteSpec[]
  /** Weights by backend name (names are unique across pools); pools without any get equal shares. */
  weights?: Record<string, number>
  states?: Record<string, AdminState>
}

/** Builds and checks a whole topology: unique names, known pools in routes, weights per pool. */
export function buildTopology(input: TopologyInput): Topology {
  if (input.backends.length === 0)
    throw badInput('No backends', 'Give --backend name=http://host:port (repeatable) or router.backends in opsctl.yaml.')
  const seen = new Set<string>()
  for (const backend of input.backends) {
    if (seen.has(backend.name)) throw badInput(`Backend "${backend.name}" is given twice (backend names are unique across pools)`)
    seen.add(backend.name)
  }
  const pools = poolNames(input.backends)
  const routes: RouteSpec[] = []
  for (const route of input.routes ?? []) {
    if (!pools.includes(route.pool))
      throw badInput(`Route ${route.prefix} goes to unknown pool "${route.pool}" (pools: ${pools.join(', ')})`)
    if (routes.some((other) => other.prefix === route.prefix)) throw badInput(`Route ${route.prefix} is given twice`)
    routes.push(route)
  }
  const given = input.weights ?? {}
  for (const name of Object.keys(given)) {
    if (!seen.has(name)) throw badInput(`Weight for unknown backend "${name}" (backends: ${[...seen].join(', ')})`)
  }
  const weights: Record<string, Record<string, number>> = {}
  for (const pool of pools) {
    const members = poolMembers(input.backends, pool)
    const named = Object.fromEntries(members.filter((name) => name in given).map((name) => [name, given[name]]))
    weights[pool] = Object.keys(named).length === 0 ? equalWeights(members) : checkPoolWeights(pool, members, named)
  }
  const states: Record<string, AdminState> = {}
  for (const [name, state] of Object.entries(input.states ?? {})) {
    if (!seen.has(name)) throw badInput(`State for unknown backend "${name}"`)
    if (state !== 'ready') states[name] = state
  }
  return { backends: input.backends.map((backend) => ({ ...backend })), routes, weights, states }
}
